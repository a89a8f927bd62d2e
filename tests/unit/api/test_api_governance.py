"""Two-person approval over the API: a rollout started on a protected
cluster awaits approval; its requester cannot approve it, a Viewer cannot
either, a second Release manager can (then it is queued); a rejection needs
a reason and ends it. Pause, resume and the manual gate go through the same
functions as the rollout page, with their refusals as 409."""
import pytest
from django.contrib.auth.models import Group

from images.models.rollout import Rollout, RolloutStatus
from support.api_tokens import START, client_with, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def protected(fleet_in_db):
    fleet_in_db.protected = True
    fleet_in_db.save(update_fields=["protected"])
    return fleet_in_db


@pytest.fixture
def second_release_manager(django_user_model, groups):
    user = django_user_model.objects.create_user("second_rm", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="Release manager"))
    return client_with(token_for(user))


def requested(client_as, pushed):
    requester = client_as("Release manager")
    started = requester.post("/api/rollouts/", {**START, "version": pushed().pk}, format="json")
    assert started.status_code == 201, started.json()
    assert started.json()["status"] == RolloutStatus.AWAITING_APPROVAL and started.json()["approval_expires_at"]
    return requester, Rollout.objects.get()


def test_a_second_release_manager_approves(client_as, protected, pushed, worker, second_release_manager,
                                           django_capture_on_commit_callbacks):
    requester, rollout = requested(client_as, pushed)
    own = requester.post(f"/api/rollouts/{rollout.pk}/approve/")
    assert own.status_code == 409
    assert own.json()["detail"] == f"{rollout}: you requested it; a second Release manager must approve it."
    viewer = client_as("Viewer").post(f"/api/rollouts/{rollout.pk}/approve/")
    assert viewer.status_code == 403 and worker.count == 0
    with django_capture_on_commit_callbacks(execute=True):
        approved = second_release_manager.post(f"/api/rollouts/{rollout.pk}/approve/")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["detail"] == f"{rollout}: approved; it starts now."
    assert approved.json()["rollout"]["approved_by_username"] == "second_rm"
    assert approved.json()["rollout"]["status"] == RolloutStatus.PLANNED and worker.count == 1
    again = second_release_manager.post(f"/api/rollouts/{rollout.pk}/approve/")
    assert again.status_code == 409 and again.json()["detail"].endswith("not awaiting approval.")


def test_a_rejection_needs_a_reason_and_ends_it(client_as, protected, pushed, worker, second_release_manager):
    _, rollout = requested(client_as, pushed)
    url = f"/api/rollouts/{rollout.pk}/reject/"
    assert second_release_manager.post(url, {"reason": " "}, format="json").json() == {
        "detail": "A reason is required to reject: it is recorded and shown to the requester."}
    rejected = second_release_manager.post(url, {"reason": "not this week"}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["detail"] == f"{rollout}: rejected; nothing was changed on {rollout.cluster}."
    rollout.refresh_from_db()
    assert (rollout.status, rollout.status_reason) == (RolloutStatus.CANCELLED, "rejected by second_rm: not this week")


def test_pause_resume_and_gate_refusals_are_the_pages_words(client_as, fleet_in_db, pushed, worker):
    api = client_as("Release manager")
    rollout = Rollout.objects.get(pk=api.post("/api/rollouts/", {**START, "version": pushed().pk},
                                              format="json").json()["id"])
    paused = api.post(f"/api/rollouts/{rollout.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["rollout"]["paused"] is True
    assert api.post(f"/api/rollouts/{rollout.pk}/resume/").json()["detail"] == f"{rollout}: resumed."
    gate = api.post(f"/api/rollouts/{rollout.pk}/gate/", {"choice": "continue"}, format="json")
    assert gate.status_code == 409
    assert gate.json()["detail"] == f"{rollout}: it is not waiting at a manual gate ({rollout.get_status_display()})."
    assert api.post(f"/api/rollouts/{rollout.pk}/gate/", {"choice": "maybe"}, format="json").status_code == 400
    assert client_as("Operator").post(f"/api/rollouts/{rollout.pk}/pause/").status_code == 403
