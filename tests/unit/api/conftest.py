"""Users in the console's role groups, each with an API token, and a small
fleet in the database only (nothing on it is ever contacted)."""
import importlib
import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from images.models import Status
from nodes.models import Cluster, Node
from support import api_tokens
from support.image_versions import draft_version

ROLES = importlib.import_module("nodes.migrations.0003_roles")
REGISTRY = "10.0.0.11:5000"
BASE = "stackato/app-holophonor:3.0.0"
TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}
# The DEA's engine may pull from the plain-HTTP registry (images/rollouts/pull_check.py).
PULLS = {"IndexConfigs": {REGISTRY: {"Name": REGISTRY, "Secure": False, "Mirrors": []}},
         "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []}
SHA = "sha256:" + "1" * 64


@pytest.fixture
def groups(db):
    ROLES.create_roles(apps, None)  # idempotent; a flush elsewhere may have emptied them
    return {group.name: group for group in Group.objects.all()}


@pytest.fixture
def token_of(django_user_model, groups):
    """token_of("Viewer") -> (user, token): a staff user in that role group."""
    def make(role, *, days=30, **user_fields):
        name = role.lower().replace(" ", "_")
        user = django_user_model.objects.create_user(name, password=None, **{"is_staff": True, **user_fields})
        if role in groups:
            user.groups.add(groups[role])
        return user, api_tokens.token_for(user, days=days)
    return make


@pytest.fixture
def client_as(token_of):
    """client_as("Release manager"): an API client sending that role's token."""
    def make(role, **user_fields):
        _, token = token_of(role, **user_fields)
        return api_tokens.client_with(token)
    return make


@pytest.fixture
def fleet_in_db(db):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry=REGISTRY)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], registry_config=PULLS,
                        desired_image=BASE, **TRUSTED)
    return cluster


@pytest.fixture
def pushed(fleet_in_db):
    """pushed("1.0.1"): a version pushed to the cluster registry, ready to roll out."""
    def make(tag="1.0.1"):
        return draft_version(fleet_in_db, tag, status=Status.PUSHED, image_id=SHA,
                             manifest_digest="sha256:" + "2" * 64,
                             registry_reference=f"{REGISTRY}/exampleco/newimg:{tag}")
    return make
