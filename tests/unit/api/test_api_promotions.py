"""Promotion over the API: POST /api/image-versions/{id}/promote/ goes
through images/promotion/rules.request as the admin's "Promote to
cluster…" (the same refusals, 409 with the console's words; 400 for a
cluster that does not exist); /api/promotions/ reads what was requested and
how it went. Real Redis with an idle registered worker: the copy job is
queued and counted, not run (the copy itself: tests/integration/promotion)."""
import pytest
from django.contrib.auth.models import Permission

from images.models import Promotion, Rollout, Status
from images.models.rollout import RolloutStatus
from job_runs.models import RunStatus
from nodes.models import Cluster
from support import api_tokens
from support.image_versions import REPOSITORY, draft_version

pytestmark = pytest.mark.django_db
DIGEST = "sha256:" + "a" * 64


def pushed(cluster, tag="1.0.0"):
    return draft_version(cluster, tag, status=Status.PUSHED, image_id="sha256:" + "c" * 64, manifest_digest=DIGEST,
                         registry_reference=f"{cluster.registry}/{REPOSITORY}:{tag}")


def succeeded_on_its_cluster(version):
    Rollout.objects.create(cluster=version.cluster, target=version, target_image=version.registry_reference,
                           target_pull=version.pull_reference, requested_by_username="rm", reason="release",
                           status=RolloutStatus.SUCCEEDED)
    return version


@pytest.fixture
def releasable(staging):
    return succeeded_on_its_cluster(pushed(staging))


@pytest.fixture
def promote(django_capture_on_commit_callbacks):
    """promote(client, version, "production"): the POST, then what waits for
    its commit (the copy job's enqueue; the test's transaction never
    commits), so worker.count counts what a request queued."""
    def post(client, version, cluster_name, body=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/api/image-versions/{version.pk}/promote/",
                               {"cluster": cluster_name} if body is None else body, format="json")
    return post


def refusal(response, status=409) -> str:
    assert response.status_code == status, response.content
    return response.json()["detail"]


def test_a_release_manager_promotes_and_reads_it_back(promote, client_as, releasable, production, worker):
    response = promote(client_as("Release manager"), releasable, "production")
    assert response.status_code == 202, response.content
    answer = response.json()
    row = Promotion.objects.get()
    assert answer["id"] == str(row.pk) and worker.count == 1  # the copy job is queued once
    assert {key: answer[key] for key in ("status", "finished", "digest", "source", "source_name", "source_cluster",
                                         "source_reference", "target_cluster", "target_reference", "target",
                                         "requested_by")} == {
        "status": "queued", "finished": False, "digest": DIGEST, "source": releasable.pk,
        "source_name": f"{REPOSITORY}:1.0.0", "source_cluster": "staging",
        "source_reference": f"10.0.0.11:5000/{REPOSITORY}@{DIGEST}", "target_cluster": "production",
        "target_reference": f"10.1.0.11:5000/{REPOSITORY}:1.0.0", "target": None,
        "requested_by": "release_manager"}

    # What the job writes (its log, its end, the version on the target) is what a Viewer reads.
    target = pushed(Cluster.objects.get(name="production"))
    row.append("=== copied")
    row.finish(RunStatus.SUCCEEDED, "on production", target)
    viewer = client_as("Viewer")
    read = viewer.get(f"/api/promotions/{row.pk}/").json()
    assert (read["status"], read["status_reason"], read["finished"], read["target"], read["log"]) == (
        "succeeded", "on production", True, target.pk, ["=== copied"])
    assert read["created_at"] and read["finished_at"]


def test_the_list_filters_by_source_target_cluster_and_status(promote, client_as, staging, production, worker):
    first, second = (succeeded_on_its_cluster(pushed(staging, tag)) for tag in ("1.0.0", "1.0.1"))
    other = Cluster.objects.create(name="dr", core_address="10.2.0.11", registry="10.2.0.11:5000")
    manager = client_as("Release manager")
    ids = {(version.pk, cluster): promote(manager, version, cluster).json()["id"]
           for version, cluster in ((first, "production"), (first, "dr"), (second, "production"))}
    Promotion.objects.filter(pk=ids[(first.pk, "dr")]).update(status=RunStatus.FAILED)
    viewer = client_as("Viewer")

    def listed(**query):
        response = viewer.get("/api/promotions/", query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert listed() == set(ids.values())
    assert listed(source=first.pk) == {ids[(first.pk, "production")], ids[(first.pk, "dr")]}
    assert listed(target_cluster="production") == {ids[(first.pk, "production")], ids[(second.pk, "production")]}
    assert listed(status="failed") == {ids[(first.pk, "dr")]}
    assert listed(source=first.pk, target_cluster=other.name, status="queued") == set()
    assert refusal(viewer.get("/api/promotions/", {"status": "done"}), 400) == (
        "status: One of queued, running, succeeded, failed, errored.")
    assert refusal(viewer.get("/api/promotions/", {"source": "latest"}), 400) == "source: An image version's id."


def test_the_admin_refusals_come_back_as_409_and_nothing_is_queued(promote, client_as, staging, production, worker):
    manager = client_as("Release manager")
    never_rolled_out = pushed(staging)
    assert refusal(promote(manager, never_rolled_out, "production")) == (
        f"{REPOSITORY}:1.0.0 never succeeded on staging: only a version whose rollout there succeeded can be "
        "promoted. Roll it out there first.")
    succeeded_on_its_cluster(never_rolled_out)
    assert refusal(promote(manager, never_rolled_out, "staging")) == (
        f"{REPOSITORY}:1.0.0 is already on staging: promote it to another cluster.")
    built = succeeded_on_its_cluster(draft_version(staging, "1.0.1", status=Status.BUILT, local=True,
                                                   image_id="sha256:" + "c" * 64))
    assert "has no digest in a registry (built, local)" in refusal(promote(manager, built, "production"))
    pushed(production)  # the same digest is on production already
    assert refusal(promote(manager, never_rolled_out, "production")) == (
        f"{REPOSITORY}:1.0.0 is already on production with the same digest: roll that version out there.")
    assert not Promotion.objects.exists() and worker.count == 0


def test_a_second_request_while_the_first_is_queued_is_refused(promote, client_as, releasable, production, worker):
    manager = client_as("Release manager")
    assert promote(manager, releasable, "production").status_code == 202
    assert refusal(promote(manager, releasable, "production")) == (
        f"A promotion of {REPOSITORY}:1.0.0 to production is already queued or running.")
    assert Promotion.objects.count() == 1 and worker.count == 1


def test_with_no_worker_alive_it_is_refused(promote, client_as, releasable, production, clean_queue):
    assert refusal(promote(client_as("Release manager"), releasable, "production")) == (
        "No RQ worker is running for the 'default' queue, so nothing was queued. "
        "Start one with `manage.py rqworker-pool` (README: Running the workers).")
    assert not Promotion.objects.exists()


def test_an_unknown_cluster_or_field_is_400(promote, client_as, releasable, production, worker):
    manager = client_as("Release manager")
    assert refusal(promote(manager, releasable, "prod"), 400) == "No cluster named 'prod'."
    assert refusal(promote(manager, releasable, "", body={}), 400) == "cluster: This field is required."
    assert refusal(promote(manager, releasable, "", body={"cluster": "production", "wait": True}), 400) == (
        "Unknown field wait (the fields are: cluster).")
    releasable.pk = 999  # no such version
    assert promote(manager, releasable, "production").status_code == 404
    assert not Promotion.objects.exists() and worker.count == 0


@pytest.mark.parametrize("role", ["Viewer", "Operator"])
def test_only_who_may_request_a_promotion_promotes(promote, client_as, releasable, production, worker, role):
    response = promote(client_as(role), releasable, "production")
    assert response.status_code == 403
    assert response.json() == {"detail": f"{role.lower()} may not do this: it needs the permission "
                                         "images.add_promotion."}
    assert not Promotion.objects.exists() and worker.count == 0


def test_starting_rollouts_is_not_requesting_promotions(promote, token_of, releasable, production, worker):
    user, token = token_of("No role")
    user.user_permissions.set(Permission.objects.filter(codename__in=["activate_rollout", "view_imageversion"]))
    response = promote(api_tokens.client_with(token), releasable, "production")
    assert response.status_code == 403
    assert response.json() == {"detail": "no_role may not do this: it needs the permission images.add_promotion."}
    assert not Promotion.objects.exists() and worker.count == 0


def test_reading_promotions_needs_view_promotion(promote, client_as, token_of, releasable, production, worker, groups):
    assert promote(client_as("Release manager"), releasable, "production").status_code == 202
    row = Promotion.objects.get()
    # The role groups hold it (nodes/migrations/0014_roles_read_later_records.py).
    for role in ("Viewer", "Operator"):
        assert groups[role].permissions.filter(codename="view_promotion").exists()
        assert client_as(role).get(f"/api/promotions/{row.pk}/").status_code == 200
    nobody = client_as("No role")  # staff, in no role group
    for url in ("/api/promotions/", f"/api/promotions/{row.pk}/"):
        response = nobody.get(url)
        assert response.status_code == 403
        assert response.json() == {"detail": "no_role may not do this: it needs the permission images.view_promotion."}
