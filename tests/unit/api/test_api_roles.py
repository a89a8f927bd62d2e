"""The console's roles over the API: a Viewer reads everything and changes
nothing; an Operator makes drafts, builds, pushes and distributes but does
not activate; a Release manager starts, cancels and undoes rollouts. A
refused call changes nothing and queues nothing (real Redis, a worker alive)."""
import pytest

from images.models import ImageVersion, Rollout, RolloutEvent
from support.api_tokens import START

pytestmark = pytest.mark.django_db
READS = ["/api/clusters/", "/api/nodes/", "/api/image-versions/", "/api/rollouts/", "/api/fence-restarts/"]
DRAFT = {"cluster": "prod", "repository": "exampleco/newimg", "tag": "2.0.0",
         "from_reference": "stackato/app-holophonor:3.0.0", "run": ["echo hi"]}


def finished_rollout(cluster, version):
    return Rollout.objects.create(cluster=cluster, target=version, target_image=version.registry_reference,
                                  target_pull=version.registry_reference, requested_by_username="rm",
                                  previous_image="stackato/app-holophonor:3.0.0", reason="release",
                                  status="succeeded")


@pytest.mark.parametrize("role", ["Viewer", "Operator", "Release manager"])
def test_every_role_reads_everything(client_as, fleet_in_db, pushed, role):
    client = client_as(role)
    version = pushed()
    for url in [*READS, f"/api/image-versions/{version.pk}/", f"/api/image-versions/{version.pk}/log/"]:
        assert client.get(url).status_code == 200, url


def test_a_viewer_changes_nothing(client_as, fleet_in_db, pushed, worker):
    client = client_as("Viewer")
    version = pushed()
    rollout = finished_rollout(fleet_in_db, version)
    refused = {
        "/api/image-versions/": (DRAFT, "images.add_imageversion"),
        f"/api/image-versions/{version.pk}/build/": ({}, "images.build_imageversion"),
        f"/api/image-versions/{version.pk}/push/": ({}, "images.push_imageversion"),
        "/api/rollouts/": ({**START, "version": version.pk}, "images.activate_rollout"),
        f"/api/rollouts/{rollout.pk}/cancel/": ({}, "images.activate_rollout"),
        f"/api/rollouts/{rollout.pk}/undo/": (START, "images.activate_rollout"),
    }
    for url, (body, permission) in refused.items():
        response = client.post(url, body, format="json")
        assert response.status_code == 403, url
        assert response.json() == {"detail": f"viewer may not do this: it needs the permission {permission}."}
    distribute = client.post("/api/rollouts/", {**START, "version": version.pk, "distribute_only": True},
                             format="json")
    assert distribute.json()["detail"].endswith("it needs the permission images.distribute_rollout.")
    assert ImageVersion.objects.count() == 1 and Rollout.objects.count() == 1 and worker.count == 0


def test_an_operator_makes_a_draft_and_distributes_but_does_not_activate(client_as, fleet_in_db, pushed, worker,
                                                                        django_capture_on_commit_callbacks):
    client = client_as("Operator")
    made = client.post("/api/image-versions/", DRAFT, format="json")
    assert made.status_code == 201, made.json()
    draft = ImageVersion.objects.get(tag="2.0.0")
    assert (made.json()["id"], made.json()["status"], draft.created_by_username) == (draft.pk, "draft", "operator")
    assert made.json()["dockerfile"] == draft.dockerfile and "RUN echo hi" in draft.dockerfile
    version = pushed()
    activate = client.post("/api/rollouts/", {**START, "version": version.pk}, format="json")
    assert activate.status_code == 403
    assert not Rollout.objects.exists() and worker.count == 0
    with django_capture_on_commit_callbacks(execute=True):
        distribute = client.post("/api/rollouts/", {**START, "version": version.pk, "distribute_only": True},
                                 format="json")
    assert distribute.status_code == 201, distribute.json()
    assert distribute.json()["distribute_only"] is True and distribute.json()["requested_by"] == "operator"
    assert worker.count == 1  # its first decision, queued


def test_an_operator_queues_a_build(client_as, fleet_in_db, worker, django_capture_on_commit_callbacks):
    client = client_as("Operator")
    draft = client.post("/api/image-versions/", DRAFT, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(f"/api/image-versions/{draft['id']}/build/", format="json")
    assert queued.status_code == 202, queued.json()
    assert queued.json()["status"] == "queued" and worker.count == 1


def test_a_release_manager_starts_cancels_and_undoes(client_as, fleet_in_db, pushed, worker):
    client = client_as("Release manager")
    version = pushed()
    started = client.post("/api/rollouts/", {**START, "version": version.pk, "max_in_flight": "50%"}, format="json")
    assert started.status_code == 201, started.json()
    body = started.json()
    rollout = Rollout.objects.get()
    assert (body["id"], body["status"], body["requested_by"], body["reason"]) == (
        str(rollout.pk), "planned", "release_manager", "monthly")
    assert [(step["node"], step["phase"], step["status"]) for step in body["steps"]] == [
        ("10.0.0.12", "pull", "pending")]
    assert rollout.max_in_flight == "50%"
    cancelled = client.post(f"/api/rollouts/{rollout.pk}/cancel/", {"roll_back": True}, format="json")
    assert cancelled.status_code == 202
    assert cancelled.json()["detail"] == (f"{rollout}: cancel requested (stop and roll back); "
                                          "it acts before its next step.")
    assert cancelled.json()["rollout"]["cancel_requested"] is True
    # Who cancelled is in the record, as from the console.
    assert list(RolloutEvent.objects.filter(rollout=rollout).values_list("kind", "username")) == [
        ("cancel_requested", "release_manager")]
    Rollout.objects.filter(pk=rollout.pk).update(status="succeeded", previous_image="stackato/app-holophonor:3.0.0")
    undone = client.post(f"/api/rollouts/{rollout.pk}/undo/", {**START, "reason": "back"}, format="json")
    assert undone.status_code == 201, undone.json()
    assert (undone.json()["kind"], undone.json()["undoes"], undone.json()["target_image"]) == (
        "rollback", str(rollout.pk), "stackato/app-holophonor:3.0.0")
