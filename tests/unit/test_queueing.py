"""Jobs take primary keys only (issue 12): the queue stores JSON, so a UUID
travels as a string and anything else (a model instance, a request) is
refused when it is enqueued, not when a worker fails to read it.
(tests/integration/test_rq_security.py checks what lands in Redis.)"""
import uuid

import django_rq
import pytest
from rq.registry import ScheduledJobRegistry

from job_runs import chain
from stackato_dash import queueing


def test_primary_keys_pass_and_anything_else_is_refused():
    assert queueing.primary_keys((1, "2f916a17-f43b-4fdf-ac32-324c9cab6a9e")) == (1, "2f916a17-f43b-4fdf-ac32-324c9cab6a9e")
    for bad in (uuid.uuid4(), object(), {"pk": 1}, True, 1.5, None):
        with pytest.raises(TypeError, match="primary keys"):
            queueing.primary_keys((bad,))



def test_the_reconciler_chain_is_one_and_restarts_when_its_next_run_is_gone():
    """job_runs/chain.py: a second start while a run is scheduled does not
    make a second chain; a scheduled run emptied out of Redis does not end it."""
    queue = django_rq.get_queue("default")
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id, delete_job=True)
    queue.connection.delete(chain.CHAIN_KEY)

    assert chain.schedule_next(queue) is True
    first = scheduled.get_job_ids()
    assert len(first) == 1 and queue.connection.get(chain.CHAIN_KEY).decode() == first[0]
    assert chain.schedule_next(queue) is False and scheduled.get_job_ids() == first
    assert chain.schedule_next(queue, current_run=first[0]) is True  # the run hands over to its successor
    handed = [job_id for job_id in scheduled.get_job_ids() if job_id != first[0]]
    assert len(handed) == 1
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id, delete_job=True)  # as `queue.empty()` or a hand cleanup would
    assert chain.schedule_next(queue) is True and len(scheduled.get_job_ids()) == 1
    queue.connection.delete(chain.CHAIN_KEY)
