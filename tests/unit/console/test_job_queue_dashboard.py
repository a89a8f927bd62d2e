"""django-rq's dashboard can delete and requeue jobs: staff alone is not enough."""
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/django_rq/dashboard/"


def test_a_viewer_is_refused_and_not_shown_the_link(client):
    importlib.import_module("nodes.migrations.0003_roles").create_roles(apps, None)  # survives an earlier flush
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    assert client.get(DASHBOARD).status_code == 403
    assert DASHBOARD.encode() not in client.get("/admin/").content


def test_a_superuser_gets_the_dashboard(admin_client):
    assert admin_client.get(DASHBOARD).status_code == 200
    assert DASHBOARD.encode() in admin_client.get("/admin/").content
