"""The admin checks the Promotion model's own permissions, as every other
admin page checks its model's: images.view_promotion to read a promotion's
page (every role), images.add_promotion to request one ("Promote to
cluster…": the Release manager). Reading the version (view_imageversion)
or starting rollouts (activate_rollout) is neither. A worker is alive
(real Redis) so that only the permission can refuse."""
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from images.models import Promotion, Rollout, Status
from images.models.rollout import RolloutStatus
from images.promotion import rules
from nodes import role_grants
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db
ROLES = ["Viewer", "Operator", "Release manager"]
CHANGELIST = "admin:images_imageversion_changelist"
DIGEST = "sha256:" + "a" * 64
IMAGES_0017 = importlib.import_module("images.migrations.0017_release_manager_requests_promotions")


@pytest.fixture
def user_with(client, django_user_model):
    """user_with(groups=[...], codenames=[...]): a staff user logged in on `client`."""
    def make(groups=(), codenames=()):
        user = django_user_model.objects.create_user("someone", password=None, is_staff=True)
        user.groups.set(Group.objects.filter(name__in=groups))
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="images", codename__in=codenames))
        client.force_login(user)
        return user
    return make


@pytest.fixture
def releasable(staging):
    version = draft_version(staging, "1.0.0", status=Status.PUSHED, image_id="sha256:" + "c" * 64,
                            manifest_digest=DIGEST, registry_reference="10.0.0.11:5000/exampleco/newimg:1.0.0")
    Rollout.objects.create(cluster=staging, target=version, target_image=version.registry_reference,
                           target_pull=version.pull_reference, requested_by_username="rm", reason="release",
                           status=RolloutStatus.SUCCEEDED)
    return version


@pytest.fixture
def promotion(releasable, production):
    return Promotion.objects.create(source=releasable, target_cluster=production, digest=DIGEST,
                                    source_reference=releasable.pull_reference,
                                    target_reference=rules.target_reference(releasable, production),
                                    requested_by_username="releaser", log="copied by digest\n")


def promotion_page(client, promotion):
    return client.get(reverse("admin:images_imageversion_promotion", args=[promotion.pk]))


def offered_actions(client) -> str:
    return client.get(reverse(CHANGELIST)).content.decode()


def test_only_the_release_manager_requests_promotions_and_the_migration_takes_it_back():
    def holds(role, codename="add_promotion"):
        return Group.objects.get(name=role).permissions.filter(codename=codename).exists()
    assert [holds(role) for role in ROLES] == [False, False, True]
    # Only the copy job writes a promotion once it is requested.
    assert not any(holds(role, codename) for role in ROLES for codename in ("change_promotion", "delete_promotion"))
    role_grants.revoke(apps, IMAGES_0017.GRANTS)
    assert not holds("Release manager") and holds("Release manager", "view_promotion")
    role_grants.grant(apps, IMAGES_0017.GRANTS)
    assert holds("Release manager")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_a_promotions_page(client, user_with, promotion, role):
    user_with(groups=[role])
    page = promotion_page(client, promotion)
    assert page.status_code == 200 and "copied by digest" in page.content.decode()


def test_reading_the_version_is_not_reading_its_promotions(client, user_with, promotion):
    user_with(codenames=["view_imageversion"])
    assert promotion_page(client, promotion).status_code == 403
    # The version itself stays readable: only the promotion is refused.
    assert client.get(reverse("admin:images_imageversion_change", args=[promotion.source.pk])).status_code == 200


def test_view_promotion_alone_reads_a_promotions_page(client, user_with, promotion):
    user_with(codenames=["view_promotion"])
    page = promotion_page(client, promotion)
    assert page.status_code == 200 and "copied by digest" in page.content.decode()


@pytest.mark.parametrize("groups, codenames, offered", [
    (["Release manager"], [], True),
    (["Viewer"], [], False),
    (["Operator"], [], False),
    ([], ["view_imageversion"], False),
    # Starting rollouts is not requesting promotions.
    ([], ["view_imageversion", "activate_rollout", "view_promotion"], False),
    ([], ["view_imageversion", "add_promotion"], True),
])
def test_promote_is_offered_to_who_may_add_a_promotion(client, user_with, releasable, groups, codenames, offered):
    user_with(groups=groups, codenames=codenames)
    assert ('<option value="promote">' in offered_actions(client)) is offered


@pytest.mark.parametrize("groups, codenames", [(["Operator"], []), ([], ["view_imageversion", "activate_rollout"])])
def test_a_promote_post_without_add_promotion_queues_nothing(client, user_with, releasable, production, worker,
                                                            django_capture_on_commit_callbacks, groups, codenames):
    user_with(groups=groups, codenames=codenames)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(CHANGELIST), {"action": "promote", "_selected_action": [releasable.pk],
                                                     "post": "yes", "choice": str(production.pk)}, follow=True)
    # Django answers an action the user is not offered with the changelist, as if none was chosen.
    page = response.content.decode()
    assert response.status_code == 200 and "Select image version to" in page  # to view / to change
    assert "No action selected." in page and "Promotion of" not in page
    assert not Promotion.objects.exists() and worker.count == 0


def test_a_release_manager_promotes_and_follows_it_on_its_page(client, user_with, releasable, production, worker,
                                                               django_capture_on_commit_callbacks):
    user_with(groups=["Release manager"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(CHANGELIST), {"action": "promote", "_selected_action": [releasable.pk],
                                                     "post": "yes", "choice": str(production.pk)}, follow=True)
    row = Promotion.objects.get()
    assert response.redirect_chain == [(reverse("admin:images_imageversion_promotion", args=[row.pk]), 302)]
    assert f"Promotion of {releasable} to production queued" in response.content.decode()
    assert row.requested_by_username == "someone" and worker.count == 1
