"""The one lifecycle every RQ job of the project goes through (NetBox's
JobRunner): queued when enqueued, running when a worker starts it, then
succeeded / failed / errored. Whatever escapes a job body ends its JobRun
errored with the reason, and the job's own on_error hook ends its domain row
(an image version, a rollout step, a provisioning) errored too, so no row is
left running by an exception: a job timeout, "database is locked", a bug.

A job whose worker dies runs no except clause at all: job_runs/reconciler.py
finds it and calls the job's on_lost hook (on_error unless it says otherwise).

    @lifecycle.job(on_error=..., outcome=...)
    def build_image_version(version_id): ...
"""
import functools
import os
import socket
import time
import uuid

from django.db import OperationalError, transaction
from django.utils import timezone
from rq import get_current_job

from job_runs.models import JobRun, RunStatus

WRITE_TRIES = 5  # a locked SQLite database or a lost PostgreSQL connection, retried (AWX's update_model)


def _succeeded(object_id, result) -> tuple[str, str]:
    return RunStatus.SUCCEEDED, ""


def job(*, on_error=None, on_lost=None, requeue=None, outcome=_succeeded):
    """Wraps a job entry point taking one primary key. on_error(object_id,
    reason) ends the domain row when the body raised; on_lost(object_id,
    reason) when its worker died (default: on_error); requeue(object_id,
    reason) queues it again when Redis lost it queued (default: the same
    job again). outcome(object_id, result) -> (RunStatus, reason) says how a
    body that returned ended."""
    def wrap(func):
        @functools.wraps(func)
        def entry(object_id):
            run_id = _start(object_id)
            try:
                result = func(object_id)
            except Exception as error:
                reason = f"{error.__class__.__name__}: {error}"
                _end(run_id, RunStatus.ERRORED, reason)
                if on_error is not None:
                    _with_retries(lambda: on_error(object_id, f"the job could not run to its end: {reason}"))
                raise  # RQ keeps the traceback in its failed registry
            status, reason = outcome(object_id, result)
            _end(run_id, status, reason)
            return result

        entry.on_lost = on_lost or on_error
        entry.requeue = requeue
        return entry
    return wrap


def record_queued(func, object_id, job_id: str, description: str = "") -> None:
    """Before the job reaches Redis, so a worker never starts a job without
    its row. Queued again under the same id (the reconciler), the row restarts."""
    JobRun.objects.update_or_create(rq_job_id=job_id, defaults={
        "func_name": f"{func.__module__}.{func.__qualname__}", "object_id": str(object_id),
        "description": (description or "")[:300], "status": RunStatus.QUEUED, "reason": "",
        "started_at": None, "finished_at": None, "worker_name": "",
    })


def new_job_id() -> str:
    return str(uuid.uuid4())


def _start(object_id) -> int | None:
    rq_job = get_current_job()
    if rq_job is None:
        return None  # called directly (a shell, a unit test): no RQ job to account for

    def claim():
        now = timezone.now()
        with transaction.atomic():
            run, _ = JobRun.objects.select_for_update().get_or_create(rq_job_id=rq_job.id, defaults={
                "func_name": rq_job.func_name, "object_id": str(object_id), "description": rq_job.description or ""})
            run.status, run.started_at, run.last_heartbeat = RunStatus.RUNNING, now, now
            run.worker_name, run.attempts, run.finished_at, run.reason = rq_job.worker_name or "", run.attempts + 1, None, ""
            run.hostname, run.pid = socket.gethostname(), os.getpid()
            run.save()
        return run.pk
    return _with_retries(claim)


def _end(run_id: int | None, status: str, reason: str) -> None:
    if run_id is None:
        return
    _with_retries(lambda: JobRun.objects.filter(pk=run_id).update(
        status=status, reason=reason, finished_at=timezone.now()))


def end_lost(run: JobRun, reason: str) -> None:
    """The reconciler's ending of a job nobody runs any more."""
    JobRun.objects.filter(pk=run.pk, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).update(
        status=RunStatus.ERRORED, reason=reason, finished_at=timezone.now())


def _with_retries(write):
    for attempt in range(WRITE_TRIES):
        try:
            return write()
        except OperationalError:
            if attempt == WRITE_TRIES - 1:
                raise
            time.sleep(0.2 * 2 ** attempt)  # backoff between retries of a locked database, not a synchronisation
