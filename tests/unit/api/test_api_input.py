"""What a pipeline sends that the API cannot act on as meant: a misspelt
field, a filter value no row can have, a wrong type. Each is a 400 whose
body is {"detail": ...} (the schema's Refusal, as every other refusal), and
nothing is started, queued or created (real Redis, a worker alive)."""
import pytest

from images.models import ImageVersion, Rollout, Status
from support.api_tokens import START
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db
DRAFT = {"cluster": "prod", "repository": "exampleco/newimg", "tag": "2.0.0",
         "from_reference": "stackato/app-holophonor:3.0.0"}


def detail(response, status=400) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["detail"], body
    return body["detail"]


def test_a_misspelt_distribute_only_starts_nothing(client_as, fleet_in_db, pushed, worker):
    # Ignored, the typo would activate the image on every node instead of only pulling it.
    version = pushed()
    said = detail(client_as("Release manager").post(
        "/api/rollouts/", {**START, "version": version.pk, "distribute-only": True}, format="json"))
    assert said == "Unknown field distribute-only (the fields are: reason, canaries, max_in_flight, " \
                   "failure_threshold, health_wait, auto_rollback, manual_gate, version, distribute_only)."
    assert not Rollout.objects.exists() and worker.count == 0


def test_a_misspelt_roll_back_cancels_nothing(client_as, fleet_in_db, pushed, worker):
    rollout = Rollout.objects.create(cluster=fleet_in_db, target=pushed(), target_image="x:1", target_pull="x:1",
                                     reason="release", status="activating")
    said = detail(client_as("Release manager").post(f"/api/rollouts/{rollout.pk}/cancel/", {"rollback": True},
                                                    format="json"))
    assert said == "Unknown field rollback (the fields are: roll_back)."
    rollout.refresh_from_db()
    assert not rollout.cancel_requested


def test_a_misspelt_draft_field_creates_nothing(client_as, fleet_in_db):
    said = detail(client_as("Operator").post("/api/image-versions/", {**DRAFT, "notes": "x", "release_notes": "y"},
                                             format="json"))
    assert said.startswith("Unknown field release_notes (the fields are: cluster, repository,")
    assert not ImageVersion.objects.exists()


@pytest.mark.parametrize("url", ["/api/rollouts/?status=done", "/api/image-versions/?status=ready"])
def test_a_status_no_row_can_have_is_400(client_as, url):
    said = detail(client_as("Viewer").get(url))
    assert said.startswith("status: One of ") and ("succeeded" in said or "pushed" in said)


def test_a_wrong_type_says_which_field(client_as, fleet_in_db, worker):
    release_manager = client_as("Release manager")
    assert detail(release_manager.post("/api/rollouts/", {**START, "version": "latest"},
                                       format="json")) == "version: A valid integer is required."
    assert detail(release_manager.post("/api/rollouts/", [1], format="json")).startswith("Invalid data.")
    assert detail(client_as("Viewer").get("/api/nodes/", {"drift": "sideways"})).startswith("drift: One of ")


def test_a_list_filter_sent_to_an_action_is_not_a_server_error(client_as, fleet_in_db, worker,
                                                               django_capture_on_commit_callbacks):
    # The query string of a POST is not a filter on the row it acts on.
    draft = draft_version(fleet_in_db, "1.0.3", status=Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client_as("Operator").post(f"/api/image-versions/{draft.pk}/build/?status=draft", format="json")
    assert queued.status_code == 202, queued.content
    assert queued.json()["status"] == "queued" and worker.count == 1


def test_a_taken_tag_is_refused_in_plain_words(client_as, fleet_in_db):
    draft_version(fleet_in_db, "2.0.0", status=Status.DRAFT)
    said = detail(client_as("Operator").post("/api/image-versions/", DRAFT, format="json"))
    assert said == ("Nothing was created. This cluster already has a version with this repository and tag. "
                    "Tags are immutable: choose a new tag.")


@pytest.mark.parametrize(("method", "url"), [("delete", "/api/image-versions/{pk}/"), ("put", "/api/clusters/{cluster}/"),
                                             ("post", "/api/clusters/"), ("patch", "/api/rollouts/"),
                                             ("options", "/api/rollouts/")])
def test_a_method_the_api_does_not_have_is_405(client_as, fleet_in_db, pushed, method, url):
    # Not a 403 "needs the permission ." that no role could ever hold.
    version = pushed()
    response = getattr(client_as("Release manager"), method)(url.format(pk=version.pk, cluster=fleet_in_db.pk))
    assert detail(response, status=405) == f'Method "{method.upper()}" not allowed.'
    assert ImageVersion.objects.filter(pk=version.pk).exists()


def test_an_empty_cmd_says_what_is_wrong(client_as, fleet_in_db):
    # Sent, but empty: not "This field is required."
    said = detail(client_as("Operator").post("/api/image-versions/", {**DRAFT, "cmd": []}, format="json"))
    assert said == "cmd: This list may not be empty."
    assert not ImageVersion.objects.exists()
