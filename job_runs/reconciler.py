"""Continuous recovery: every few seconds (job_runs/chain.py) a worker
compares the unfinished JobRun rows with what RQ knows (the job, its status,
the worker running it and that worker's heartbeat) and ends or re-queues
what was lost, while the other workers go on working.

What "lost" means, for an unfinished row:
- queued, and its RQ job is gone (Redis emptied): queued again, same id;
- running (or started in RQ), the process that ran the body is not alive
  on this machine, and either the worker running it is gone (not
  registered, or its process is dead on this machine) or it has sent no
  heartbeat for the job for HEARTBEATS_MISSED of its periods (a worker
  frozen, or on a machine that died, stays registered until its key
  expires), or RQ ended the job without the job ending the row (a work
  horse killed at its timeout): the row ends errored and the job's
  on_lost hook ends or re-queues its domain row (a rollout step is queued
  again: it looks at the node first).
A long job is not a lost one: its worker keeps beating (RQ's own job
heartbeat, every settings.RQ_JOB_HEARTBEAT seconds while it waits on its
work horse), and each pass copies the last beat onto the row.
"""
import logging
import os
import socket
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from rq import Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from job_runs import chain, lifecycle
from job_runs.models import UNFINISHED, JobRun, RunStatus
from stackato_dash import queueing

# Sweeps each pass also runs, by dotted path so this app does not import the
# apps whose jobs it watches (as with the jobs' own on_lost/requeue hooks):
# fence restart rows left open with no step left to complete them; approval
# requests past their deadline, and rollouts whose maintenance window opened.
SWEEPS = ("images.rollouts.open_restarts.look_at_open_restarts", "images.rollouts.governance.sweep")
HEARTBEATS_MISSED = 3  # beats a running job's worker may miss before the job counts as lost
QUEUED_GRACE = timedelta(seconds=10)  # a row is written just before its job reaches Redis
ENDED_BY_RQ = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED)
log = logging.getLogger(__name__)


def reconcile_job() -> str:
    """The periodic RQ job (job_runs/chain.py)."""
    queue = queueing.get_queue()
    current = get_current_job()
    chain.schedule_next(queue, current_run=current.id if current else "")
    return "; ".join(reconcile(queue)) or "nothing lost"


def live_workers(queue) -> dict[str, Worker]:
    """Registered workers by name, whatever queue they listen on (a delivery
    runs on a notifications worker), less those on this machine whose process
    is gone (a SIGKILLed worker stays registered until its key expires)."""
    here = socket.gethostname()
    alive = {}
    for worker in Worker.all(connection=queue.connection, serializer=queue.serializer):
        if worker.hostname == here and worker.pid and not _pid_alive(worker.pid):
            worker.register_death()
            continue
        alive[worker.name] = worker
    return alive


def _pid_alive(pid: int) -> bool:
    """A zombie is dead: a killed worker's orphans may wait long for a reaper."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return True  # no /proc here: kill(0) said it exists


def reconcile(queue) -> list[str]:
    """One pass; returns what it did, one line per job."""
    workers = live_workers(queue)
    done = []
    for run in JobRun.objects.filter(status__in=UNFINISHED).order_by("enqueued_at"):
        try:
            rq_job = Job.fetch(run.rq_job_id, connection=queue.connection, serializer=queue.serializer)
        except NoSuchJobError:
            rq_job = None
        line = _settle(queue, run, rq_job, workers)
        if line:
            log.warning(line)
            done.append(line)
    for sweep in SWEEPS:
        try:
            lines = import_string(sweep)()
        except Exception:  # noqa: BLE001 - one sweep's bug must not stop the pass; it is logged with its traceback
            log.exception("reconciler sweep %s failed", sweep)
            continue
        for line in lines:
            log.warning(line)
        done.extend(lines)
    return done


def _settle(queue, run: JobRun, rq_job, workers) -> str:
    status = rq_job.get_status(refresh=False) if rq_job is not None else None
    if run.status == RunStatus.QUEUED and status not in (JobStatus.STARTED, *ENDED_BY_RQ):
        if rq_job is None and timezone.now() - run.enqueued_at > QUEUED_GRACE:
            return _requeue(run)
        return ""
    worker_name = (rq_job.worker_name if rq_job is not None else "") or run.worker_name
    if status == JobStatus.STARTED or (status is None and run.status == RunStatus.RUNNING):
        beat = rq_job.last_heartbeat if rq_job is not None else None
        if beat is not None and beat != run.last_heartbeat:
            JobRun.objects.filter(pk=run.pk).update(last_heartbeat=beat)
        if run.hostname == socket.gethostname() and run.pid and _pid_alive(run.pid):
            return ""  # its process still works (a work horse outlives its killed worker): it ends the row
        if worker_name not in workers:
            why = f"the worker running it ({worker_name or 'unknown'}) is gone"
        elif beat is not None and _silent_since(beat):
            why = (f"the worker running it ({worker_name}) sent no heartbeat for it since {beat:%H:%M:%S} UTC "
                   f"({HEARTBEATS_MISSED} beats missed)")
        else:
            return ""  # still being run: a long job keeps beating
    else:
        last = _last_line(rq_job) if rq_job is not None and status == JobStatus.FAILED else ""
        if "AbandonedJobError" in last:
            # Another worker's registry clean-up got there first: RQ's words
            # for the same loss, said the operator's way.
            why = f"the worker running it ({worker_name or 'unknown'}) is gone"
        else:
            # status.value: "failed", not the enum's "JobStatus.FAILED", in the operator's message.
            why = (f"RQ ended its job as {status.value} but the job did not record an ending"
                   + (f" ({last})" if last else ""))
    return _lost(run, why)


def _silent_since(beat) -> bool:
    return timezone.now() - beat > timedelta(seconds=settings.RQ_JOB_HEARTBEAT * HEARTBEATS_MISSED)


def _requeue(run: JobRun) -> str:
    func, object_id = import_string(run.func_name), _object_id(run)
    hook = getattr(func, "requeue", None)
    if hook is not None:  # the job's own way (a rollout step: through the rollout)
        lifecycle.end_lost(run, "lost: its queued job is no longer in Redis")
        hook(object_id, "its queued job was no longer in Redis")
    else:
        queueing.enqueue(func, object_id, job_id=run.rq_job_id, description=run.description)
    return f"{run.description or run.func_name}: its queued job was no longer in Redis; queued again"


def _object_id(run: JobRun):
    """Jobs take ints, or UUIDs as strings."""
    return int(run.object_id) if run.object_id.isdigit() else run.object_id


def _lost(run: JobRun, why: str) -> str:
    reason = f"lost: {why}"
    lifecycle.end_lost(run, reason)
    hook = getattr(import_string(run.func_name), "on_lost", None)
    if hook is not None:
        hook(_object_id(run), reason)
    return f"{run.description or run.func_name}: {reason}"


def _last_line(rq_job) -> str:
    result = rq_job.latest_result()
    text = (getattr(result, "exc_string", "") or "").strip()
    return text.splitlines()[-1] if text else "no traceback"
