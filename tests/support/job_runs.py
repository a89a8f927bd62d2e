"""Real Redis for job lifecycle tests (a plugin, tests/conftest.py): an
empty queue and registries, no reconciler chain left over from another
test, and a stand-in for a worker that died (registered, with the pid of a
process that has exited)."""
import subprocess
import sys

import django_rq
import pytest
from django.conf import settings
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from job_runs import chain
from stackato_dash.rq_worker import JSONSimpleWorker
from support.rq import end_idle_workers, register_idle_worker


@pytest.fixture
def clean_queue():
    """Yields the default queue; every queue of settings.RQ_QUEUES is emptied
    (a delivery a test queued must not run in the next test's worker)."""
    queues = [django_rq.get_queue(name) for name in settings.RQ_QUEUES]
    queue = django_rq.get_queue("default")

    def clean():
        for each in queues:
            empty(each)
        queue.connection.delete(chain.CHAIN_KEY)
    clean()
    yield queue
    end_idle_workers()  # after the test only: a worker_alive fixture set up before this one is the test's
    clean()



def empty(queue) -> None:
    queue.empty()
    # rq 2.x's StartedJobRegistry.remove raises NotImplementedError (a started
    # job lives there as executions): delete each job through Job.delete, which
    # removes its executions, then the registry's own key with what is left.
    for registry_class in (FailedJobRegistry, StartedJobRegistry, ScheduledJobRegistry):
        registry = registry_class(queue=queue)
        for job_id in registry.get_job_ids():
            job = queue.fetch_job(job_id)
            if job is None:
                continue
            try:
                job.delete(remove_from_queue=False)
            except ValueError:
                # An execution the registry lists is gone already (RQ's own
                # cleanup of an abandoned job ran meanwhile): delete the job's key.
                queue.connection.delete(job.key)
        queue.connection.delete(registry.key)


@pytest.fixture
def worker(clean_queue):
    """A worker alive (real Redis) that runs nothing: what was queued stays in
    the queue, which this yields (worker.count: the jobs queued)."""
    idle = register_idle_worker()
    yield clean_queue
    idle.register_death()


def dead_worker(queue, name: str = "dead-worker") -> JSONSimpleWorker:
    """A worker registered in Redis whose process is gone (as after SIGKILL)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    worker = JSONSimpleWorker([queue], connection=queue.connection, name=name)
    worker.pid = gone.pid
    worker.register_birth()
    return worker


def started_by(queue, job_id: str, worker) -> None:
    """RQ's picture of a job the worker took: started, named after it."""
    job = queue.fetch_job(job_id)
    queue.remove(job_id)
    job.worker_name = worker.name
    job.save()
    job.set_status("started")
