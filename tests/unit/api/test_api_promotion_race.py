"""Two pipelines promote the same version to the same cluster at the same
moment: each request in its own thread with its own database connection,
released together, and both held until both have passed rules.refusal()'s
"already queued or running" read (the window the database constraint
closes). Exactly one Promotion row and one queued copy job; the other
request gets the console's refusal, 409. Real Redis, an idle worker."""
import threading

import pytest

from images.models import Promotion, Rollout, Status
from images.models.rollout import RolloutStatus
from nodes.models import Cluster
from stackato_dash import queueing
from support import api_tokens
from support.image_versions import REPOSITORY, draft_version
from support.writers_at_once import actions_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def both_past_the_check(monkeypatch):
    """rules.request asks for a worker right after its refusal() read: each
    request waits there for the other, so both have read "nothing queued"."""
    past, real = threading.Barrier(2, timeout=30), queueing.require_worker

    def require_worker():
        past.wait()
        real()
    monkeypatch.setattr(queueing, "require_worker", require_worker)


def test_two_requests_at_once_make_one_promotion_and_one_refusal(token_of, worker, both_past_the_check):
    staging = Cluster.objects.create(name="staging", core_address="10.0.0.11", registry="10.0.0.11:5000")
    Cluster.objects.create(name="production", core_address="10.1.0.11", registry="10.1.0.11:5000")
    version = draft_version(staging, "1.0.0", status=Status.PUSHED, image_id="sha256:" + "c" * 64,
                            manifest_digest="sha256:" + "a" * 64,
                            registry_reference=f"10.0.0.11:5000/{REPOSITORY}:1.0.0")
    Rollout.objects.create(cluster=staging, target=version, target_image=version.registry_reference,
                           target_pull=version.pull_reference, requested_by_username="rm", reason="release",
                           status=RolloutStatus.SUCCEEDED)
    _, token = token_of("Release manager")
    pipelines = [api_tokens.client_with(token) for _ in range(2)]  # two CI jobs with the one CI token

    answers = actions_at_once(*[lambda api=api: api.post(f"/api/image-versions/{version.pk}/promote/",
                                                          {"cluster": "production"}, format="json")
                                for api in pipelines])

    assert sorted(answer.status_code for answer in answers) == [202, 409], [a.content for a in answers]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.json() == {"detail": f"A promotion of {REPOSITORY}:1.0.0 to production is already queued or running."}
    accepted = next(answer for answer in answers if answer.status_code == 202)
    assert [str(pk) for pk in Promotion.objects.values_list("id", flat=True)] == [accepted.json()["id"]]
    assert worker.count == 1  # one copy job
