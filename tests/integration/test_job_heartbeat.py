"""A long job from a lost one, with a real `manage.py rqworker` beating
RQ's own job heartbeat every second (RQ_JOB_HEARTBEAT=1): while it works,
the beats go on and the reconciler leaves the job, copying the last beat
onto its row; once the worker is frozen (SIGSTOP: still registered, its
process alive) and its work horse is gone, the beats stop and the
reconciler ends the job as lost, naming the last beat, before the worker's
registration expires."""
import os
import signal
from datetime import timedelta

import pytest
from rq import Worker

from job_runs import reconciler
from job_runs.models import JobRun
from stackato_dash import queueing
from support import held_job
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_long_job_keeps_beating_and_a_frozen_workers_job_is_lost(clean_queue, tmp_path, settings):
    settings.RQ_JOB_HEARTBEAT = 1  # the reconciler here judges by the workers' period
    worker = start_worker(RQ_JOB_HEARTBEAT="1", **held_job.worker_env())
    try:
        wait_until_registered(worker)
        job = queueing.enqueue(held_job.hold, str(tmp_path / "release"), description="held job")
        run = wait_until(lambda: JobRun.objects.filter(rq_job_id=job.id, status="running").first(), "the job to run", timeout=60)
        silence = timedelta(seconds=settings.RQ_JOB_HEARTBEAT * reconciler.HEARTBEATS_MISSED)

        # Long: it has run for longer than the silence that means lost, and
        # the worker's beats go on; the reconciler leaves it, noting the beat.
        def beaten_after_the_silence():
            assert reconciler.reconcile(clean_queue) == []
            beat = JobRun.objects.get(pk=run.pk).last_heartbeat
            return beat if beat > run.started_at + silence else None
        wait_until(beaten_after_the_silence, "a heartbeat later than the silence allowed", timeout=60)
        assert JobRun.objects.get(pk=run.pk).status == "running"

        # Lost: the worker frozen (as a machine that hangs), its work horse gone.
        os.kill(worker.pid, signal.SIGSTOP)
        os.kill(run.pid, signal.SIGKILL)
        lines = wait_until(lambda: reconciler.reconcile(clean_queue), "the reconciler to end it", timeout=60)
        assert worker.pid in {w.pid for w in Worker.all(queue=clean_queue)}  # still registered
        run.refresh_from_db()
        assert run.status == "errored"
        assert run.reason.startswith(f"lost: the worker running it ({run.worker_name}) sent no heartbeat for it "
                                     f"since {run.last_heartbeat:%H:%M:%S} UTC")
        assert lines == [f"held job: {run.reason}"]
    finally:
        (tmp_path / "release").touch()
        kill_worker(worker)  # and its work horse (a process group of its own), stopped or not
        # RQ still lists the job as started by the dead worker: clean_queue's
        # clean-up after the test deletes it.
