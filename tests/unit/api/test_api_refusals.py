"""What a pipeline reads when the API refuses: the words the console shows
for the same refusal (tests/unit/rollouts/test_start_refusals.py), as 409
when the fleet or the row does not allow it and 400 when what was sent is
not valid; nothing is started or queued (real Redis, a worker alive)."""
import pytest

from images.models import ImageVersion, Status
from images.models.rollout import Rollout
from nodes.models import Node
from support.api_tokens import START
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db
SHA = "sha256:" + "1" * 64


@pytest.fixture
def api(client_as):
    return client_as("Release manager")


def start(api, version, **strategy):
    return api.post("/api/rollouts/", {**START, "version": version.pk, **strategy}, format="json")


def refusal(response, status=409) -> str:
    assert response.status_code == status, response.content
    return response.json()["detail"]


def test_a_rollout_through_an_untrusted_core_is_refused(api, fleet_in_db, pushed, worker):
    Node.objects.filter(address="10.0.0.11").update(host_key="")
    assert refusal(start(api, pushed())) == "The Core node 10.0.0.11 is not trusted: the config is set through it."
    assert not Rollout.objects.exists() and worker.count == 0


def test_a_rollout_with_no_worker_alive_is_refused(api, fleet_in_db, pushed, clean_queue):
    assert refusal(start(api, pushed())) == (
        "No RQ worker is running for the 'default' queue, so nothing was queued. "
        "Start one with `manage.py rqworker-pool` (README: Running the workers).")
    assert not Rollout.objects.exists()


def test_a_rollout_with_no_dea_is_refused(api, fleet_in_db, pushed, worker):
    Node.objects.filter(address="10.0.0.12").delete()
    assert refusal(start(api, pushed())) == "No DEA node can take part (the cluster has no DEA node)."


def test_a_version_not_pushed_or_not_built_is_refused(api, fleet_in_db, worker):
    built = draft_version(fleet_in_db, "1.0.2", status=Status.BUILT, image_id=SHA,
                          engine_reference="exampleco/newimg:1.0.2")
    assert refusal(start(api, built)) == ("exampleco/newimg:1.0.2 is built but not pushed yet: push it to the "
                                          "cluster registry first.")
    draft = draft_version(fleet_in_db, "1.0.3")
    assert refusal(start(api, draft)) == "exampleco/newimg:1.0.3 is draft: only a built (and pushed) version can be rolled out."
    assert not Rollout.objects.exists()


def test_a_second_rollout_on_the_cluster_is_refused(api, fleet_in_db, pushed, worker):
    assert start(api, pushed()).status_code == 201
    assert refusal(start(api, pushed("1.0.4"))) == "prod already has a rollout in progress: wait for it, or cancel it."
    assert Rollout.objects.count() == 1


def test_a_bad_strategy_or_no_reason_is_400_with_the_plan_page_words(api, fleet_in_db, pushed, worker):
    version = pushed()
    assert refusal(start(api, version, reason=" "), 400) == "Nothing was started. reason: This field is required."
    assert refusal(start(api, version, max_in_flight="lots"), 400).startswith("Nothing was started. max_in_flight: ")
    assert refusal(start(api, version, health_wait=99999), 400) == (
        "Nothing was started. health_wait: Ensure this value is less than or equal to 3600.")
    assert api.post("/api/rollouts/", {**START, "version": 999}, format="json").json() == {
        "detail": "No image version with id 999."}
    assert api.post("/api/rollouts/", {**START}, format="json").json() == {"detail": "version: This field is required."}
    assert not Rollout.objects.exists() and worker.count == 0


def _rollout(cluster, **fields):
    return Rollout.objects.create(cluster=cluster, target_image="10.0.0.11:5000/exampleco/newimg:1.0.1",
                                  target_pull="10.0.0.11:5000/exampleco/newimg:1.0.1", requested_by_username="rm",
                                  reason="release", **fields)


def test_undo_of_an_unfinished_or_blind_rollout_is_refused(api, fleet_in_db, worker):
    running = _rollout(fleet_in_db, status="activating", previous_image="stackato/app-holophonor:3.0.0")
    undo = f"/api/rollouts/{running.pk}/undo/"
    assert refusal(api.post(undo, START, format="json")) == "This rollout has not finished: cancel it first."
    Rollout.objects.filter(pk=running.pk).update(status="succeeded", previous_image="")
    assert refusal(api.post(undo, START, format="json")) == (
        "This rollout never read the image it replaced, so there is nothing to go back to.")
    assert Rollout.objects.count() == 1


def test_cancel_of_a_finished_rollout_is_refused(api, fleet_in_db):
    done = _rollout(fleet_in_db, status="succeeded")
    assert refusal(api.post(f"/api/rollouts/{done.pk}/cancel/", {}, format="json")) == (
        f"{done}: it has already ended ({done.get_status_display()}): nothing to cancel.")
    done.refresh_from_db()
    assert not done.cancel_requested


def test_build_and_push_refusals(client_as, fleet_in_db, pushed, worker):
    api = client_as("Operator")
    version = pushed()
    assert refusal(api.post(f"/api/image-versions/{version.pk}/build/")) == (
        "exampleco/newimg:1.0.1 is already built (pushed): a tag is built once and never rebuilt. "
        "Create a new version with a new tag.")
    assert refusal(api.post(f"/api/image-versions/{version.pk}/push/")).startswith(
        "exampleco/newimg:1.0.1 is already pushed as ")
    draft = draft_version(fleet_in_db, "1.0.5")
    assert refusal(api.post(f"/api/image-versions/{draft.pk}/push/")) == (
        "exampleco/newimg:1.0.5 is not built yet: build it first.")
    assert worker.count == 0


def test_a_draft_the_form_refuses_is_400_and_not_created(client_as, fleet_in_db):
    api = client_as("Operator")
    draft = {"cluster": "prod", "repository": "exampleco/newimg", "tag": "2.0.0"}
    assert refusal(api.post("/api/image-versions/", {**draft, "cluster": "nope"}, format="json"), 400) == (
        "No cluster named 'nope'.")
    no_from = refusal(api.post("/api/image-versions/", draft, format="json"), 400)
    assert no_from.startswith("Nothing was created. ")
    bad_run = refusal(api.post("/api/image-versions/", {**draft, "from_reference": "stackato/app-holophonor:3.0.0",
                                                        "run": [""]}, format="json"), 400)
    assert bad_run.startswith("Nothing was created. RUN ''")
    assert not ImageVersion.objects.exists()
