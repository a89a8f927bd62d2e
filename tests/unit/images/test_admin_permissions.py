"""Build and Push are offered only with their own permissions, checked with a
worker alive so that only the permission can refuse."""
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from images.models import Status
from job_runs.models import JobRun
from support.rq import register_idle_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, django_user_model):
    user = django_user_model.objects.create_user("operator", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_imageversion", "change_imageversion"]))
    client.force_login(user)
    return user


@pytest.fixture
def worker_alive(clean_queue):
    """A registered worker (real Redis): the "no worker" refusal cannot stand
    in for the permission check the test is about."""
    worker = register_idle_worker()
    yield clean_queue
    worker.register_death()


def post_action(client, action, version):
    return client.post(reverse("admin:images_imageversion_changelist"),
                       {"action": action, "_selected_action": [version.pk], "post": "yes"}, follow=True)


def test_without_the_build_permission_there_is_no_build_action(client, operator, make_version, worker_alive,
                                                                django_capture_on_commit_callbacks):
    version = make_version()
    page = client.get(reverse("admin:images_imageversion_changelist")).content.decode()
    assert 'value="build"' not in page and 'value="push"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        page = post_action(client, "build", version).content.decode()
    # Django answers an action the user is not offered with the bare changelist.
    assert "Select image version to change" in page and "Build queued" not in page and "messagelist" not in page
    version.refresh_from_db()
    assert version.status == Status.DRAFT
    assert worker_alive.count == 0 and not JobRun.objects.exists()


def test_the_build_and_push_permissions_offer_the_actions(client, operator, make_version, worker_alive,
                                                          django_capture_on_commit_callbacks):
    version = make_version()
    operator.user_permissions.add(*Permission.objects.filter(codename__in=["build_imageversion", "push_imageversion"]))
    page = client.get(reverse("admin:images_imageversion_changelist")).content.decode()
    assert 'value="build"' in page and 'value="push"' in page
    assert "New version from active image" not in page  # that needs the add permission
    assert reverse("admin:images_imageversion_registry_index") in page
    # The same POST as above now queues the build: the refusal above was the permission's.
    with django_capture_on_commit_callbacks(execute=True):
        with_permission = post_action(client, "build", version).content.decode()
    assert f"Build queued for {version}." in with_permission
    version.refresh_from_db()
    assert version.status == Status.QUEUED and worker_alive.count == 1


def test_pages_beside_the_changelist_need_their_permissions(client, operator):
    assert client.get(reverse("admin:images_imageversion_from_active")).status_code == 403  # no add permission
    assert client.get(reverse("admin:images_imageversion_provision_registry")).status_code == 403
    assert client.get(reverse("admin:images_imageversion_registry_index")).status_code == 200
