"""A long job from a lost one, by RQ's own job heartbeat (its worker beats
it every settings.RQ_JOB_HEARTBEAT seconds while the job runs), with a real
Redis: a registered worker that still beats for its job is left alone and
the beat is copied onto the row; one that stopped beating (frozen, or on a
machine that died: its key outlives it) has its job ended as lost."""
from datetime import timedelta

import pytest
from django.utils import timezone
from rq import Worker

from images import jobs, transitions
from images.models import Status
from job_runs import reconciler
from job_runs.models import JobRun
from stackato_dash import queueing, rq_worker
from support.job_runs import started_by
from support.rq import register_idle_worker

pytestmark = pytest.mark.django_db(transaction=True)  # django-rq enqueues on commit


def running_build(version, queue, worker, beat) -> str:
    """A build RQ shows started by `worker`, whose last heartbeat was at `beat`."""
    assert transitions.queue(version.pk, transitions.BUILDABLE)
    job_id = queueing.enqueue(jobs.build_image_version, version.pk, description=f"Build {version}").id
    transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    JobRun.objects.filter(rq_job_id=job_id).update(status="running", worker_name=worker.name,
                                                   started_at=timezone.now() - timedelta(hours=1))
    started_by(queue, job_id, worker)
    queue.fetch_job(job_id).heartbeat(beat, ttl=600)
    return job_id


def test_a_long_job_whose_worker_still_beats_is_left_and_its_beat_recorded(make_version, clean_queue, settings):
    worker = register_idle_worker()
    beat = (timezone.now() - timedelta(seconds=settings.RQ_JOB_HEARTBEAT)).replace(microsecond=0)
    version = make_version()
    job_id = running_build(version, clean_queue, worker, beat)

    assert reconciler.reconcile(clean_queue) == []

    run = JobRun.objects.get(rq_job_id=job_id)
    assert (run.status, run.last_heartbeat) == ("running", beat)
    version.refresh_from_db()
    assert version.status == Status.BUILDING
    worker.register_death()


def test_a_job_whose_registered_worker_stopped_beating_is_lost(make_version, clean_queue, settings):
    worker = register_idle_worker()  # still registered: its key has not expired
    missed = settings.RQ_JOB_HEARTBEAT * reconciler.HEARTBEATS_MISSED
    beat = timezone.now() - timedelta(seconds=missed + 5)
    version = make_version()
    job_id = running_build(version, clean_queue, worker, beat)
    assert worker.name in {w.name for w in Worker.all(queue=clean_queue)}

    reason = (f"lost: the worker running it ({worker.name}) sent no heartbeat for it since {beat:%H:%M:%S} UTC "
              f"({reconciler.HEARTBEATS_MISSED} beats missed)")
    assert reconciler.reconcile(clean_queue) == [f"Build {version}: {reason}"]

    run = JobRun.objects.get(rq_job_id=job_id)
    assert (run.status, run.reason) == ("errored", reason)
    version.refresh_from_db()
    assert (version.status, version.status_reason) == (Status.ERRORED, reason)
    assert version.can_build
    worker.register_death()


def test_the_workers_beat_at_the_configured_period(clean_queue, settings):
    settings.RQ_JOB_HEARTBEAT = 4
    assert rq_worker.JSONWorker([clean_queue], connection=clean_queue.connection).job_monitoring_interval == 4
