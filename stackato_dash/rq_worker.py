"""The RQ worker class every worker of the project runs (settings.RQ).

django-rq's `rqworker` and `rqworker-pool` default to RQ's pickle
serializer, and unpickling a job runs whatever code its bytes name. This
class loads jobs with RQ's JSON serializer whatever serializer it is
handed, so a job that is not JSON (a pickle pushed into Redis by hand)
fails to load, is moved to the failed registry, and runs nothing. Its
queues read jobs as JSON too: a worker's registry cleanup reads abandoned
jobs (and their meta, at once) through the queue's serializer, and
`rqworker-pool` hands its workers queues made with the pool's (pickle).
"""
from django.conf import settings
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer

from job_runs import chain


def _json_queues(queues):
    """A queue made with another serializer is replaced by its name, so the
    worker makes it again with its own (JSON) serializer and queue class."""
    if isinstance(queues, (str, Queue)):
        queues = [queues]
    return [q if isinstance(q, str) or q.serializer is JSONSerializer else q.name for q in queues]


def _json_only(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    kwargs["serializer"] = JSONSerializer
    if args:
        args = (_json_queues(args[0]), *args[1:])
    elif "queues" in kwargs:
        kwargs["queues"] = _json_queues(kwargs["queues"])
    return args, kwargs


# RQ's scheduler (which runs the job reconciler, job_runs/chain.py) runs in
# one worker at a time, under a lock that expires 61 s after that worker
# dies; the others only try to take it over in their maintenance, every
# 10 minutes and only between two waits for a job (405 s by default). Both
# are shortened so a killed scheduler's work moves on within about 2 min.
MAINTENANCE_EVERY = 30  # seconds


class JSONWorker(Worker):
    def __init__(self, *args, **kwargs):
        args, kwargs = _json_only(args, kwargs)
        kwargs["maintenance_interval"] = MAINTENANCE_EVERY
        # RQ's own heartbeat for the job running (job.last_heartbeat), sent
        # while the worker waits on its work horse: the reconciler's sign
        # of a job still being run.
        kwargs["job_monitoring_interval"] = settings.RQ_JOB_HEARTBEAT
        # Always the setting: `rqworker` passes its --worker-ttl default (420)
        # as if chosen, and `rqworker-pool` has no such flag.
        kwargs["worker_ttl"] = settings.RQ_WORKER_TTL
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        return min(super().dequeue_timeout, MAINTENANCE_EVERY)

    def work(self, *args, **kwargs):
        # A starting worker makes sure the job reconciler's periodic run is
        # scheduled (job_runs/chain.py): nothing else needs starting. On the
        # default queue, whatever this worker listens on (a notifications
        # worker's scheduler does not move jobs scheduled there).
        chain.schedule_next(Queue(chain.QUEUE, connection=self.connection, serializer=JSONSerializer))
        return super().work(*args, **kwargs)


class JSONSimpleWorker(SimpleWorker):
    """The same, running jobs in its own process (tests' burst runs)."""

    def __init__(self, *args, **kwargs):
        args, kwargs = _json_only(args, kwargs)
        super().__init__(*args, **kwargs)
