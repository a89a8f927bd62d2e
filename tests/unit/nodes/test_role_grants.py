"""The governance migrations give the role groups the permissions of the
models added after the roles migration (nodes/role_grants.py): every role
reads the rollout events and the maintenance windows, the Operator may
edit windows (on the page only together with the Release manager role)."""
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from nodes import role_grants

pytestmark = pytest.mark.django_db

ROLES = importlib.import_module("nodes.migrations.0003_roles")
IMAGES_0009 = importlib.import_module("images.migrations.0009_rollout_approval_and_windows")
NODES_0012 = importlib.import_module("nodes.migrations.0012_cluster_protection_and_windows")


def codenames(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_the_migrations_grants_reach_each_role_and_are_taken_back_on_reverse():
    ROLES.create_roles(apps, None)
    for grants in (IMAGES_0009.GRANTS, NODES_0012.GRANTS):
        role_grants.revoke(apps, grants)
    assert "view_rolloutevent" not in codenames("Viewer")
    for grants in (IMAGES_0009.GRANTS, NODES_0012.GRANTS):
        role_grants.grant(apps, grants)
    for role in ("Viewer", "Operator", "Release manager"):
        assert {"view_rolloutevent", "view_maintenancewindow"} <= codenames(role)
    assert {"add_maintenancewindow", "change_maintenancewindow", "delete_maintenancewindow"} <= codenames("Operator")
    assert "change_maintenancewindow" not in codenames("Release manager") | codenames("Viewer")


def test_a_role_group_an_admin_deleted_is_not_made_again():
    ROLES.create_roles(apps, None)
    Group.objects.filter(name="Viewer").delete()
    role_grants.grant(apps, IMAGES_0009.GRANTS)
    assert not Group.objects.filter(name="Viewer").exists()
    assert "view_rolloutevent" in codenames("Operator")
