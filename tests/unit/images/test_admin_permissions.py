"""Build and Push are offered only with their own permissions."""
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from images.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, django_user_model):
    user = django_user_model.objects.create_user("operator", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_imageversion", "change_imageversion"]))
    client.force_login(user)
    return user


def test_without_the_build_permission_there_is_no_build_action(client, operator, make_version):
    version = make_version()
    page = client.get(reverse("admin:images_imageversion_changelist")).content.decode()
    assert 'value="build"' not in page and 'value="push"' not in page
    client.post(reverse("admin:images_imageversion_changelist"), {"action": "build", "_selected_action": [version.pk], "post": "yes"})
    version.refresh_from_db()
    assert version.status == Status.DRAFT


def test_the_build_and_push_permissions_offer_the_actions(client, operator, make_version):
    make_version()
    operator.user_permissions.add(*Permission.objects.filter(codename__in=["build_imageversion", "push_imageversion"]))
    page = client.get(reverse("admin:images_imageversion_changelist")).content.decode()
    assert 'value="build"' in page and 'value="push"' in page
    assert "New version from active image" not in page  # that needs the add permission
    assert reverse("admin:images_imageversion_registry_index") in page


def test_pages_beside_the_changelist_need_their_permissions(client, operator):
    assert client.get(reverse("admin:images_imageversion_from_active")).status_code == 403  # no add permission
    assert client.get(reverse("admin:images_imageversion_provision_registry")).status_code == 403
    assert client.get(reverse("admin:images_imageversion_registry_index")).status_code == 200
