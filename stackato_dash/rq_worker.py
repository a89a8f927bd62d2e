"""The RQ worker class every worker of the project runs (settings.RQ).

django-rq's `rqworker` and `rqworker-pool` default to RQ's pickle
serializer, and unpickling a job runs whatever code its bytes name. This
class loads jobs with RQ's JSON serializer whatever serializer it is
handed, so a job that is not JSON (a pickle pushed into Redis by hand)
fails to load, is moved to the failed registry, and runs nothing.
"""
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from job_runs import chain


class JSONWorker(Worker):
    def __init__(self, *args, **kwargs):
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)

    def work(self, *args, **kwargs):
        # A starting worker makes sure the job reconciler's periodic run is
        # scheduled (job_runs/chain.py): nothing else needs starting.
        chain.schedule_next(self.queues[0])
        return super().work(*args, **kwargs)


class JSONSimpleWorker(SimpleWorker):
    """The same, running jobs in its own process (tests' burst runs)."""

    def __init__(self, *args, **kwargs):
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)
