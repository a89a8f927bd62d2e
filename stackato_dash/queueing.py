"""Enqueueing RQ jobs from the console: only after the transaction commits,
and only when a worker is there to run them."""
import django_rq
from django.db import transaction
from rq import Worker

from job_runs import chain, lifecycle
from job_runs.models import JobRun, RunStatus

QUEUE = chain.QUEUE  # builds, pushes, rollouts and their steps, the job reconciler
# Rollout notifications: a queue of their own, consumed by their own workers
# (README: Running the workers). A webhook that hangs (NOTIFY_TIMEOUT per
# attempt, then RQ's retries) then holds only a notification worker: an RQ
# worker runs one job at a time, and a queue order (default first) would not
# free one already busy with a delivery when a rollout step is queued.
NOTIFICATIONS = "notifications"


class NoWorker(Exception):
    """No RQ worker listens on the queue: a job would wait forever."""


def get_queue(name: str = QUEUE):
    return django_rq.get_queue(name)


def queue_of(func) -> str:
    """The queue a job goes to: its function's `rq_queue` (set where the job
    is defined), else the default. The reconciler queues a lost job again
    through enqueue(), so it lands on the same queue."""
    return getattr(func, "rq_queue", QUEUE)


def require_worker() -> None:
    """For the default queue only: builds and rollouts need a worker there.
    Notifications never make the console refuse anything; without their
    worker they stay queued, and the console's home says so (console.py)."""
    queue = get_queue()
    try:
        workers = Worker.all(queue=queue)
    except Exception as error:  # noqa: BLE001 - any Redis failure means "cannot enqueue"
        raise NoWorker(f"Redis does not answer ({error}); nothing was queued.") from None
    if not workers:
        raise NoWorker(f"No RQ worker is running for the '{QUEUE}' queue, so nothing was queued. "
                       "Start one with `manage.py rqworker-pool` (README: Running the workers).")


def primary_keys(args: tuple) -> tuple:
    """Jobs take primary keys only (ints, or UUIDs as strings): the queue
    stores jobs as JSON (settings.RQ_QUEUES), never pickles, and a job
    re-reads its rows when it runs."""
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, str)):
            raise TypeError(f"RQ jobs take primary keys (int, or str for a UUID) only, not {type(arg).__name__}")
    return args


def enqueue(func, *ids, keep_row_if_not_queued: bool = False, **options):
    """Every job gets its JobRun row first (job_runs/lifecycle.py), under the
    RQ job id, so the reconciler can find it if Redis loses the job.
    keep_row_if_not_queued: when Redis refuses the job, its row stays queued
    for the reconciler to queue it again (a domain row already says queued,
    as a rollout step the engine chose does); otherwise it is removed."""
    primary_keys(ids)
    job_id = options.pop("job_id", None) or lifecycle.new_job_id()
    lifecycle.record_queued(func, ids[0] if ids else "", job_id, options.get("description") or "")
    queue = get_queue(queue_of(func))
    try:
        job = queue.enqueue(func, *ids, job_id=job_id, **options)
    except Exception:
        if not keep_row_if_not_queued:
            JobRun.objects.filter(rq_job_id=job_id, status=RunStatus.QUEUED).delete()  # never queued: no row
        raise
    chain.schedule_next(get_queue())  # the reconciler (on the default queue) watches it; a no-op while its chain runs
    return job


def enqueue_on_commit(func, *ids, description: str = "", **options) -> None:
    """After commit, so a job never runs before the rows it reads exist
    (at once when no transaction is open). options: RQ's (job_id, job_timeout)."""
    primary_keys(ids)
    transaction.on_commit(lambda: enqueue(func, *ids, description=description or None, **options))
