"""Run queued jobs one at a time in this process (the project's worker class,
burst mode) until the rollout reaches the point where a fault is injected:
the fault then lands between two steps, decided by state, not by timing."""
import django_rq

from stackato_dash.rq_worker import JSONSimpleWorker


def run_jobs_until(condition, what: str, max_jobs: int = 100):
    """Runs one queued job after another until condition() is truthy (checked
    before each job); fails naming `what` if the queue runs dry first."""
    queue = django_rq.get_queue("default")
    worker = JSONSimpleWorker([queue], connection=queue.connection)
    for _ in range(max_jobs):
        if value := condition():
            return value
        if not queue.count:
            break
        worker.work(burst=True, max_jobs=1)
    assert (value := condition()), f"the queue ran dry before {what}"
    return value
