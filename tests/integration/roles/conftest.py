"""Users in the groups the roles migration creates, and a small fleet in the
database only: every refused action must be refused before anything connects."""
import importlib

import django_rq
import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from images.models import ImageVersion, Rollout, Status
from nodes.models import Cluster, Node

ROLES = importlib.import_module("nodes.migrations.0003_roles")


@pytest.fixture
def groups(db):
    # A transactional test earlier in the session flushes the tables the
    # migration filled; creating them again is idempotent.
    ROLES.create_roles(apps, None)
    return {group.name: group for group in Group.objects.all()}


@pytest.fixture
def login_as(client, django_user_model, groups):
    def login(role):
        user = django_user_model.objects.create_user(role.lower().replace(" ", "_"), password="x", is_staff=True)
        user.groups.add(groups[role])
        client.force_login(user)
        return user
    return login


@pytest.fixture
def queue():
    return django_rq.get_queue("default")


@pytest.fixture
def cluster(db):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary", "controller"], host_key="AAAA",
                        host_key_type="ssh-ed25519", host_key_fingerprint="SHA256:core")
    for address in ("10.0.0.12", "10.0.0.13"):
        Node.objects.create(cluster=cluster, address=address, roles=["dea"], host_key="AAAA",
                            host_key_type="ssh-ed25519", host_key_fingerprint=f"SHA256:{address}",
                            desired_image="stackato/app-holophonor:3.0.0")
    return cluster


@pytest.fixture
def draft(cluster):
    return ImageVersion.objects.create(cluster=cluster, repository="exampleco/newimg", tag="1.0.1",
                                       from_reference="stackato/app-holophonor:3.0.0")


@pytest.fixture
def built(cluster):
    """Built and waiting for its push to the cluster's registry."""
    Cluster.objects.filter(pk=cluster.pk).update(registry="127.0.0.1:9")
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/newimg", tag="1.0.2",
                                          from_reference="stackato/app-holophonor:3.0.0")
    ImageVersion.objects.filter(pk=version.pk).update(status=Status.BUILT, image_id="sha256:abc",
                                                      engine_reference="exampleco/newimg:1.0.2")
    return ImageVersion.objects.get(pk=version.pk)


@pytest.fixture
def rollout(cluster, built):
    return Rollout.objects.create(cluster=cluster, target=built, target_image="127.0.0.1:9/exampleco/newimg:1.0.2",
                                  target_pull="127.0.0.1:9/exampleco/newimg:1.0.2", requested_by_username="rm",
                                  previous_image="stackato/app-holophonor:3.0.0", reason="release")
