"""Enqueueing RQ jobs from the console: only after the transaction commits,
and only when a worker is there to run them."""
import django_rq
from django.db import transaction
from rq import Worker

QUEUE = "default"


class NoWorker(Exception):
    """No RQ worker listens on the queue: a job would wait forever."""


def get_queue():
    return django_rq.get_queue(QUEUE)


def require_worker() -> None:
    queue = get_queue()
    try:
        workers = Worker.all(queue=queue)
    except Exception as error:  # noqa: BLE001 - any Redis failure means "cannot enqueue"
        raise NoWorker(f"Redis does not answer ({error}); nothing was queued.") from None
    if not workers:
        raise NoWorker(f"No RQ worker is running for the '{QUEUE}' queue, so nothing was queued. "
                       "Start one with `manage.py rqworker-pool` (README: Running the workers).")


def enqueue_on_commit(func, *args, description: str = "") -> None:
    """Jobs get primary keys only; they re-read the rows when they run. After
    commit, so a job never runs before the rows it reads exist."""
    transaction.on_commit(lambda: get_queue().enqueue(func, *args, description=description or None))
