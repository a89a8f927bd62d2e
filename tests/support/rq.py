"""Run what the console queued, with a real Redis and an RQ worker in burst
mode in this process (NetBox's pattern), so jobs see the test database."""
import django_rq

# The project's worker class, reading jobs as JSON like every real worker.
from stackato_dash.rq_worker import JSONSimpleWorker as SimpleWorker


def run_queued_jobs() -> None:
    queue = django_rq.get_queue("default")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def register_idle_worker():
    """A registered worker, so the console's "is a worker alive?" check passes
    while the test runs the jobs itself with run_queued_jobs()."""
    queue = django_rq.get_queue("default")
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.register_birth()
    return worker
