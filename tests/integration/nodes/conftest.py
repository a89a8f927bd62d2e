import django_rq
import pytest

from support.rq import register_idle_worker


@pytest.fixture
def worker_alive():
    """Redis is real; a registered worker lets the console's "is a worker
    alive?" check pass, and tests run the queued jobs with run_queued_jobs()."""
    queue = django_rq.get_queue("default")
    queue.empty()
    worker = register_idle_worker()
    yield worker
    worker.register_death()
    queue.empty()
