"""/metrics: the exposition parsed with prometheus_client's own parser after
rows are created, Redis real (the test's own), and who may scrape."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue, Worker

from images.models.rollout import Phase, Rollout, RolloutStatus, RolloutStep
from job_runs.models import JobRun, RunStatus
from nodes.models import Cluster, FenceRestart, Node
from notifications.models import Delivery

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict:
    """{(sample name, frozenset(labels)): value}"""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def queue(clean_queue):
    return clean_queue


@pytest.fixture
def fleet():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    nodes = [Node.objects.create(cluster=cluster, address=f"10.0.0.{21 + n}", roles=["dea"], drift=drift)
             for n, drift in enumerate(["in_sync", "in_sync", "not_restarted"])]
    return cluster, nodes


def rollout(cluster, status, **fields):
    return Rollout.objects.create(cluster=cluster, target_image="reg:5000/app:2", target_pull="reg:5000/app:2",
                                  requested_by_username="ops", reason="fix", status=status, **fields)


def test_rollouts_by_outcome_and_nodes_by_drift(client, fleet, queue):
    cluster, _ = fleet
    for status in (RolloutStatus.SUCCEEDED, RolloutStatus.SUCCEEDED, RolloutStatus.ROLLED_BACK):
        rollout(cluster, status)
    samples = scrape(client)
    assert value(samples, "stackato_dash_rollouts", cluster="prod", kind="rollout", status="succeeded") == 2
    assert value(samples, "stackato_dash_rollouts", cluster="prod", kind="rollout", status="rolled_back") == 1
    assert value(samples, "stackato_dash_rollouts", cluster="prod", kind="rollout", status="failed") is None
    assert value(samples, "stackato_dash_nodes", cluster="prod", drift="in_sync") == 2
    assert value(samples, "stackato_dash_nodes", cluster="prod", drift="not_restarted") == 1
    assert value(samples, "stackato_dash_nodes", cluster="prod", drift="unreachable") == 0


def test_step_and_restart_durations_are_histograms_of_the_rows(client, fleet, queue):
    cluster, nodes = fleet
    done = rollout(cluster, RolloutStatus.SUCCEEDED)
    start = timezone.now() - timedelta(hours=1)
    for node, seconds in zip(nodes, (3, 8, 200)):
        RolloutStep.objects.create(rollout=done, node=node, phase=Phase.PULL, image="x", status="succeeded",
                                   started_at=start, finished_at=start + timedelta(seconds=seconds))
    RolloutStep.objects.create(rollout=done, node=nodes[0], phase=Phase.RESTART, image="x", status="queued")
    FenceRestart.objects.create(node=nodes[0], cluster=cluster, node_address=nodes[0].address, started_at=start,
                                finished_at=start + timedelta(seconds=12), outcome="succeeded",
                                requested_by_username="ops", reason="fix")
    samples = scrape(client)
    pull = dict(phase="pull", status="succeeded")
    name = "stackato_dash_rollout_step_duration_seconds"
    assert value(samples, f"{name}_bucket", le="1.0", **pull) == 0
    assert value(samples, f"{name}_bucket", le="5.0", **pull) == 1
    assert value(samples, f"{name}_bucket", le="10.0", **pull) == 2
    assert value(samples, f"{name}_bucket", le="300.0", **pull) == 3
    assert value(samples, f"{name}_count", **pull) == 3
    assert value(samples, f"{name}_sum", **pull) == pytest.approx(211)
    assert value(samples, f"{name}_count", phase="restart", status="queued") is None  # not finished: not counted
    restart = dict(cluster_name="prod", outcome="succeeded")
    assert value(samples, "stackato_dash_fence_restart_duration_seconds_bucket", le="10.0", **restart) == 0
    assert value(samples, "stackato_dash_fence_restart_duration_seconds_bucket", le="30.0", **restart) == 1
    assert value(samples, "stackato_dash_fence_restart_duration_seconds_sum", **restart) == pytest.approx(12)


def test_an_unfinished_rollout_says_how_long_nothing_moved(client, fleet, queue):
    cluster, nodes = fleet
    stuck = rollout(cluster, RolloutStatus.ACTIVATING, started_at=timezone.now() - timedelta(hours=2))
    RolloutStep.objects.create(rollout=stuck, node=nodes[0], phase=Phase.PULL, image="x", status="succeeded",
                               started_at=timezone.now() - timedelta(hours=2),
                               finished_at=timezone.now() - timedelta(minutes=30))
    Rollout.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=2))
    idle = value(scrape(client), "stackato_dash_rollout_unfinished_idle_seconds",
                 cluster="prod", rollout=str(stuck.pk), status="activating")
    assert 30 * 60 <= idle < 40 * 60


def test_a_paused_rollout_is_labelled_paused_not_its_phase(client, fleet, queue):
    """The stuck-rollout alert (README) leaves paused ones out by this label."""
    cluster, nodes = fleet
    held = rollout(cluster, RolloutStatus.ACTIVATING, started_at=timezone.now(), paused=True)
    samples = scrape(client)
    assert value(samples, "stackato_dash_rollout_unfinished_idle_seconds", cluster="prod", rollout=str(held.pk),
                 status="paused") is not None
    assert value(samples, "stackato_dash_rollout_unfinished_idle_seconds", cluster="prod", rollout=str(held.pk),
                 status="activating") is None


def test_queue_depth_workers_and_job_runs(client, queue):
    samples = scrape(client)
    assert value(samples, "stackato_dash_redis_up") == 1
    assert value(samples, "stackato_dash_rq_workers", queue="default") == 0
    assert value(samples, "stackato_dash_reconciler_scheduled") == 0

    # rq's own Queue: django_rq's waits for a commit this test never makes.
    plain = Queue(queue.name, connection=queue.connection, serializer=queue.serializer)
    plain.enqueue("job_runs.reconciler.reconcile_job")
    plain.enqueue("job_runs.reconciler.reconcile_job")
    worker = Worker([queue], connection=queue.connection, name="metrics-test")
    worker.register_birth()
    JobRun.objects.create(rq_job_id="a", func_name="images.jobs.build", object_id="1", status=RunStatus.ERRORED)
    JobRun.objects.create(rq_job_id="b", func_name="images.jobs.build", object_id="2", status=RunStatus.ERRORED)
    Delivery.objects.create(channel="webhook", target="http://127.0.0.1:9/hook", event="rollout.started",
                            rollout_id=uuid.uuid4(), payload={}, status="failed")
    samples = scrape(client)
    assert value(samples, "stackato_dash_rq_queue_jobs", queue="default") == 2
    assert value(samples, "stackato_dash_rq_workers", queue="default") == 1
    assert value(samples, "stackato_dash_job_runs", job="images.jobs.build", status="errored") == 2
    assert value(samples, "stackato_dash_notification_deliveries", channel="webhook", status="failed") == 1
    worker.register_death()
    assert value(scrape(client), "stackato_dash_rq_workers", queue="default") == 0


def test_redis_down_is_a_metric_not_an_error(client, settings, fleet):
    settings.RQ_QUEUES = {"default": {"URL": "redis://:x@127.0.0.1:1/0"}}

    samples = scrape(client)
    assert value(samples, "stackato_dash_redis_up") == 0
    assert value(samples, "stackato_dash_nodes", cluster="prod", drift="in_sync") == 2


def test_with_a_token_only_a_scrape_that_sends_it_is_answered(client, settings, queue):
    settings.METRICS_TOKEN = "s3cret-token"  # noqa: S105  a test value, not a secret
    refused = client.get("/metrics")
    assert refused.status_code == 403 and b"METRICS_TOKEN" in refused.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert "stackato_dash_redis_up" in str(scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token"))


def test_without_a_token_only_loopback_is_answered(client, settings, queue):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.post("/metrics").status_code == 405


@pytest.mark.parametrize("what", ["a step in flight", "a cancel requested"])
def test_a_paused_rollout_that_still_acts_keeps_its_phase_label(client, fleet, queue, what):
    """Paused waits on a person only when nothing runs: a step in flight (it
    finishes while paused) or a cancel (never held) can hang like any other,
    so the stuck-rollout alert must still see it."""
    cluster, nodes = fleet
    held = rollout(cluster, RolloutStatus.ACTIVATING, started_at=timezone.now(), paused=True,
                   cancel_requested=what == "a cancel requested")
    if what == "a step in flight":
        RolloutStep.objects.create(rollout=held, node=nodes[0], phase=Phase.RESTART, image="x", status="running",
                                   started_at=timezone.now())
    samples = scrape(client)
    assert value(samples, "stackato_dash_rollout_unfinished_idle_seconds", cluster="prod", rollout=str(held.pk),
                 status="activating") is not None
    assert value(samples, "stackato_dash_rollout_unfinished_idle_seconds", cluster="prod", rollout=str(held.pk),
                 status="paused") is None
