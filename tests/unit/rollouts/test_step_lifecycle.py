"""Rollout steps in the one job lifecycle (job_runs/), with a real Redis and
an RQ worker in this process; the node side is stubbed (the sandbox tests
cover it): a step whose body raises anything ends errored with the reason
and the rollout reaches an honest end; a queued step lost with Redis is
queued again by the reconciler while a worker is alive."""
import contextlib
from datetime import timedelta

import pytest
import redis
from django.db import OperationalError, transaction
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStatus, RolloutStep
from images.rollouts import jobs, steps
from job_runs import reconciler
from job_runs.models import JobRun
from nodes import remote
from nodes.models import Cluster, Node
from stackato_dash import queueing
from support.rq import register_idle_worker, run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # django-rq enqueues on commit

DEA = "10.0.0.21"


@pytest.fixture
def no_ssh(monkeypatch):
    """A session that is never used: the stubbed executor decides."""
    monkeypatch.setattr(remote, "session_pool", lambda: contextlib.nullcontext(type("Pool", (), {
        "get": lambda self, endpoint: None})()))
    monkeypatch.setattr(remote, "endpoint", lambda node: node.address)


def start_distribution() -> Rollout:
    """Distribute only: after the pull it ends, with no Core node to activate on."""
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address=DEA, roles=["dea"])
    rollout = Rollout.objects.create(cluster=cluster, target_image="reg:5000/app:2", target_pull="reg:5000/app:2",
                                     previous_image="reg:5000/app:1", requested_by_username="ops", reason="fix",
                                     distribute_only=True)
    RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.PULL, image="reg:5000/app:2")
    jobs.advance(rollout.pk)  # queues the pull
    return rollout


def test_a_step_raising_anything_ends_errored_with_the_reason_and_the_rollout_ends(clean_queue, no_ssh,
                                                                                  monkeypatch):
    def locked(step, session):
        raise OperationalError("database is locked")
    monkeypatch.setitem(steps.EXECUTORS, Phase.PULL, locked)
    rollout = start_distribution()
    pull = rollout.steps.get()
    assert pull.status == "queued"

    run_queued_jobs()

    pull.refresh_from_db()
    assert pull.status == "errored"
    assert pull.output == "the job could not run to its end: OperationalError: database is locked"
    assert pull.finished_at is not None
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.FAILED
    assert rollout.status_reason.startswith(f"the pull failed on {DEA}: the cluster config was not changed")
    run = JobRun.objects.get(rq_job_id=pull.job_id)
    assert (run.status, run.reason) == ("errored", "OperationalError: database is locked")


def test_a_queued_step_lost_with_redis_is_queued_again_while_a_worker_is_alive(clean_queue, no_ssh, monkeypatch):
    monkeypatch.setitem(steps.EXECUTORS, Phase.PULL, lambda step, session: f"{step.image} already present")
    rollout = start_distribution()
    lost = rollout.steps.get().job_id
    clean_queue.connection.flushdb()  # Redis emptied: the queued step is gone
    alive = register_idle_worker()
    JobRun.objects.filter(rq_job_id=lost).update(enqueued_at=timezone.now() - timedelta(minutes=1))

    lines = reconciler.reconcile(clean_queue)

    assert lines == [f"rollout {rollout.pk}: pull on {DEA}: its queued job was no longer in Redis; queued again"]
    pull = rollout.steps.get()
    assert pull.status == "queued" and pull.job_id != lost and pull.job_id in clean_queue.job_ids
    assert JobRun.objects.get(rq_job_id=lost).status == "errored"
    rollout.refresh_from_db()
    assert f"pull on {DEA}: its queued job was no longer in Redis; queued again" in rollout.decisions
    run_queued_jobs()
    pull.refresh_from_db()
    assert pull.status == "succeeded" and pull.attempt == 1
    assert JobRun.objects.get(rq_job_id=pull.job_id).status == "succeeded"
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    alive.register_death()


def test_a_step_delivered_twice_runs_once(clean_queue, no_ssh, monkeypatch):
    """A second delivery of a step while the first runs it (the same job
    queued twice) must not reach the node again: for a restart step that
    would be a second fence restart."""
    calls = []

    def pull(step, session):
        calls.append(step.attempt)
        if len(calls) == 1:
            steps.run(step.pk)  # the second delivery arrives while this one runs
        return f"{step.image} already present"
    monkeypatch.setitem(steps.EXECUTORS, Phase.PULL, pull)
    rollout = start_distribution()
    step = rollout.steps.get()

    steps.run(step.pk)

    assert calls == [1]
    step.refresh_from_db()
    assert (step.status, step.attempt) == ("succeeded", 1)


def test_a_step_redis_refused_to_queue_is_queued_again_by_the_reconciler(clean_queue, no_ssh, monkeypatch):
    """The engine committed the step as queued; Redis refused its job. The
    step must not be left queued with no job anywhere (the rollout would
    wait for it forever): its job row stays for the reconciler."""
    monkeypatch.setitem(steps.EXECUTORS, Phase.PULL, lambda step, session: f"{step.image} already present")
    refusing = type("Queue", (), {"enqueue": lambda self, *a, **k: (_ for _ in ()).throw(
        redis.exceptions.ConnectionError("Connection reset by peer"))})()
    with monkeypatch.context() as redis_down:
        redis_down.setattr(queueing, "get_queue", lambda: refusing)
        rollout = start_distribution()  # the decision is made; queueing its step fails
    refused = rollout.steps.get()
    assert refused.status == "queued" and refused.job_id not in clean_queue.job_ids
    JobRun.objects.filter(rq_job_id=refused.job_id).update(enqueued_at=timezone.now() - timedelta(minutes=1))
    alive = register_idle_worker()

    lines = reconciler.reconcile(clean_queue)

    alive.register_death()
    assert lines == [f"rollout {rollout.pk}: pull on {DEA}: its queued job was no longer in Redis; queued again"]
    pull = rollout.steps.get()
    assert pull.status == "queued" and pull.job_id in clean_queue.job_ids
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED


def test_a_started_rollout_whose_decide_job_redis_refused_is_queued_again(clean_queue, no_ssh, monkeypatch):
    """start() commits the rollout, then queues its first decision: a refusal
    there must not leave it planned with no job (nor raise into the page)."""
    monkeypatch.setitem(steps.EXECUTORS, Phase.PULL, lambda step, session: f"{step.image} already present")
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address=DEA, roles=["dea"])
    refusing = type("Queue", (), {"enqueue": lambda self, *a, **k: (_ for _ in ()).throw(
        redis.exceptions.ConnectionError("Connection reset by peer"))})()
    with monkeypatch.context() as redis_down, transaction.atomic():
        redis_down.setattr(queueing, "get_queue", lambda: refusing)
        rollout = Rollout.objects.create(cluster=cluster, target_image="reg:5000/app:2", target_pull="reg:5000/app:2",
                                         previous_image="reg:5000/app:1", requested_by_username="ops", reason="fix",
                                         distribute_only=True)
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.PULL, image="reg:5000/app:2")
        jobs.enqueue_advance(rollout.pk)  # as start.py, inside its transaction
    [run] = JobRun.objects.filter(object_id=str(rollout.pk))
    assert run.status == "queued" and run.rq_job_id not in clean_queue.job_ids
    JobRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now() - timedelta(minutes=1))
    alive = register_idle_worker()

    lines = reconciler.reconcile(clean_queue)

    alive.register_death()
    assert lines == [f"rollout {rollout.pk}: decide: its queued job was no longer in Redis; queued again"]
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED
