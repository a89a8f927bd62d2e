"""Keeps one periodic reconciler run scheduled, with RQ's own scheduler
(queue.enqueue_in; workers run with the scheduler: `rqworker
--with-scheduler`, and `rqworker-pool` always does). Each run schedules the
next before it works, so a run killed halfway still has a successor; a Redis
key naming the next run keeps it one chain, however many places start it
(every enqueue, every worker start, `manage.py reconcile_jobs`).

No project imports here: stackato_dash.queueing calls it on every enqueue."""
import uuid
from datetime import timedelta

PERIOD = 10  # seconds between two reconciler runs
QUEUE = "default"  # the queue its runs go to (stackato_dash.queueing.QUEUE), whichever worker starts the chain
CHAIN_KEY = "stackato_dash:reconciler:next"  # holds the id of the next scheduled run
RECONCILE_JOB = "job_runs.reconciler.reconcile_job"
# Take the key if it is free, if it names the run that is asking (the chain
# handing over to its next run), or if the run it names is gone from Redis
# (a queue emptied by hand): never two chains at once, never none.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('EXISTS', 'rq:job:' .. holder) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


def schedule_next(queue, current_run: str = "") -> bool:
    """Schedule the next run unless another is scheduled already.
    current_run: the id of the chain's run that is asking."""
    next_run = f"reconcile-{uuid.uuid4()}"
    if not queue.connection.eval(_TAKE, 1, CHAIN_KEY, current_run or "-", next_run, PERIOD * 3):
        return False
    queue.enqueue_in(timedelta(seconds=PERIOD), RECONCILE_JOB, job_id=next_run,
                     description="reconcile job rows with RQ", result_ttl=PERIOD * 6, failure_ttl=3600)
    return True
