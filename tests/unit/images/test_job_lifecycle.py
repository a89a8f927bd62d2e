"""The one job lifecycle (job_runs/), on build and push jobs, with a real
Redis and an RQ worker in this process: whatever escapes a job ends its
rows errored with the reason; the reconciler ends a job whose worker died
and queues again one that Redis lost, while other workers are alive."""
import os
import socket
import threading
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from rq.registry import FailedJobRegistry

from images import build, jobs, transitions
from images.models import Status
from job_runs import reconciler
from job_runs.models import JobRun
from stackato_dash import queueing
from support.job_runs import dead_worker, started_by
from support.rq import register_idle_worker, run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # django-rq enqueues on commit


def queue_build(version) -> str:
    assert transitions.queue(version.pk, transitions.BUILDABLE)
    return queueing.enqueue(jobs.build_image_version, version.pk, description=f"Build {version}").id


def test_what_escapes_a_build_ends_the_version_and_its_job_errored_with_the_reason(make_version, clean_queue,
                                                                                 monkeypatch):
    def locked(version, log):
        log.line("=== build starts")
        raise OperationalError("database is locked")
    monkeypatch.setattr(build, "_build", locked)
    version = make_version()
    job_id = queue_build(version)
    assert JobRun.objects.get(rq_job_id=job_id).status == "queued"

    run_queued_jobs()

    version.refresh_from_db()
    assert version.status == Status.ERRORED
    assert version.status_reason == "the job could not run to its end: OperationalError: database is locked"
    run = JobRun.objects.get(rq_job_id=job_id)
    assert (run.status, run.reason, run.attempts) == ("errored", "OperationalError: database is locked", 1)
    assert run.started_at <= run.finished_at and run.last_heartbeat is not None
    assert run.func_name == "images.jobs.build_image_version" and run.object_id == str(version.pk)
    assert job_id in FailedJobRegistry(queue=clean_queue).get_job_ids()  # RQ keeps the traceback
    assert version.can_build  # the admin can build it again


def test_a_build_that_ran_and_failed_is_a_failed_job_with_the_versions_reason(make_version, clean_queue,
                                                                             monkeypatch):
    def fails(version, log):
        transitions.finish(version, Status.FAILED, "Step 2/3 : RUN false failed")
        return version.status
    monkeypatch.setattr(build, "_build", fails)
    job_id = queue_build(make_version())
    run_queued_jobs()
    run = JobRun.objects.get(rq_job_id=job_id)
    assert (run.status, run.reason) == ("failed", "Step 2/3 : RUN false failed")


def test_the_reconciler_ends_a_build_whose_worker_died_and_it_can_be_built_again(make_version, clean_queue,
                                                                                 monkeypatch):
    version = make_version()
    job_id = queue_build(version)
    worker = dead_worker(clean_queue)
    # The dead worker had claimed it: the version building, the job started.
    transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    JobRun.objects.filter(rq_job_id=job_id).update(status="running", worker_name=worker.name,
                                                   started_at=timezone.now())
    started_by(clean_queue, job_id, worker)
    alive = register_idle_worker()  # the reconciler works while other workers are alive

    lines = reconciler.reconcile(clean_queue)

    assert lines == [f"Build {version}: lost: the worker running it ({worker.name}) is gone"]
    version.refresh_from_db()
    assert version.status == Status.ERRORED
    assert version.status_reason == f"lost: the worker running it ({worker.name}) is gone"
    assert JobRun.objects.get(rq_job_id=job_id).status == "errored"
    assert reconciler.reconcile(clean_queue) == []  # nothing twice
    assert version.can_build
    monkeypatch.setattr(build, "_build", lambda v, log: transitions.finish(v, Status.BUILT, image_id="sha256:" + "a" * 64)
                        or v.status)
    again = queue_build(version)
    run_queued_jobs()
    version.refresh_from_db()
    assert version.status == Status.BUILT and JobRun.objects.get(rq_job_id=again).status == "succeeded"
    alive.register_death()


def test_a_build_rqs_own_clean_up_failed_as_abandoned_is_named_by_its_lost_worker(make_version, clean_queue):
    """Another worker's registry clean-up can reach a dead worker's job
    before the reconciler does; the operator still reads why it ended."""
    version = make_version()
    job_id = queue_build(version)
    worker = dead_worker(clean_queue)
    transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    JobRun.objects.filter(rq_job_id=job_id).update(status="running", worker_name=worker.name,
                                                   started_at=timezone.now())
    started_by(clean_queue, job_id, worker)
    # What rq's StartedJobRegistry.cleanup does to an abandoned job.
    job = clean_queue.fetch_job(job_id)
    with clean_queue.connection.pipeline() as pipeline:
        job.set_status("failed", pipeline=pipeline)
        job._handle_failure("Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-11-29 16:56:47",
                            pipeline, worker_name="")
        pipeline.execute()
    alive = register_idle_worker()

    assert reconciler.reconcile(clean_queue) == [f"Build {version}: lost: the worker running it ({worker.name}) is gone"]
    version.refresh_from_db()
    assert (version.status, version.status_reason) == (
        Status.ERRORED, f"lost: the worker running it ({worker.name}) is gone")
    assert version.can_build
    alive.register_death()


def test_the_reconciler_leaves_a_job_whose_worker_is_alive(make_version, clean_queue):
    version = make_version()
    job_id = queue_build(version)
    alive = register_idle_worker()
    transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    JobRun.objects.filter(rq_job_id=job_id).update(status="running", worker_name=alive.name)
    started_by(clean_queue, job_id, alive)
    assert reconciler.reconcile(clean_queue) == []
    version.refresh_from_db()
    assert version.status == Status.BUILDING and JobRun.objects.get(rq_job_id=job_id).status == "running"
    alive.register_death()


def test_the_reconciler_queues_again_a_build_redis_lost_queued(make_version, clean_queue):
    version = make_version()
    job_id = queue_build(version)
    alive = register_idle_worker()
    clean_queue.connection.flushdb()  # Redis emptied: the queued job is gone
    alive.register_birth()
    assert reconciler.reconcile(clean_queue) == []  # just queued: its message may be on its way
    JobRun.objects.filter(rq_job_id=job_id).update(enqueued_at=timezone.now() - timedelta(minutes=1))

    assert reconciler.reconcile(clean_queue) == [f"Build {version}: its queued job was no longer in Redis; "
                                                 "queued again"]

    assert job_id in clean_queue.job_ids
    assert JobRun.objects.get(rq_job_id=job_id).status == "queued"
    alive.register_death()


def test_a_build_stopped_by_its_job_timeout_ends_errored_with_the_reason(make_version, clean_queue, monkeypatch):
    def hangs(version, log):
        threading.Event().wait(60)  # an engine that never answers; RQ's timeout interrupts it
        return version.status
    monkeypatch.setattr(build, "_build", hangs)
    version = make_version()
    assert transitions.queue(version.pk, transitions.BUILDABLE)
    job_id = queueing.enqueue(jobs.build_image_version, version.pk, job_timeout=1).id
    run_queued_jobs()
    version.refresh_from_db()
    assert version.status == Status.ERRORED
    assert version.status_reason.startswith("the job could not run to its end: JobTimeoutException: ")
    assert JobRun.objects.get(rq_job_id=job_id).status == "errored"


def test_a_work_horse_still_running_after_its_worker_died_is_left_to_finish(make_version, clean_queue):
    """RQ's work horse has a process group of its own: a killed worker's
    horse may go on and end the row itself; nothing is ended under it."""
    version = make_version()
    job_id = queue_build(version)
    worker = dead_worker(clean_queue)
    transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    JobRun.objects.filter(rq_job_id=job_id).update(status="running", worker_name=worker.name,
                                                   hostname=socket.gethostname(), pid=os.getpid())
    started_by(clean_queue, job_id, worker)
    assert reconciler.reconcile(clean_queue) == []
    version.refresh_from_db()
    assert version.status == Status.BUILDING and JobRun.objects.get(rq_job_id=job_id).status == "running"
