"""Fixtures shared by the node and cluster admin tests."""
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client

ROLES = importlib.import_module("nodes.migrations.0003_roles")


@pytest.fixture
def operator(django_user_model) -> Client:
    ROLES.create_roles(apps, None)
    user = django_user_model.objects.create_user("olga", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))
    client = Client()
    client.force_login(user)
    return client
