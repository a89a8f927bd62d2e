"""Issue 10's fault matrix, the two rows about the database and the queue
(docs/operations.md), staged with real rqworker processes on the rollout
sandbox: the database locked while a step writes, and two workers racing
for the same step. The checks are test_fault_matrix.py's
(support/fleet_picture.py): the rollout's honest end on its page, one audit
row per fence start on every DEA, none left "outcome unknown", and the
console's per-node picture equal to the nodes'. The rollout is driven in
this process up to the canary's restart (support/job_stepping.py), so the
fault lands on that step, decided by state."""
import pytest
from django.db import connection
from rq.job import Job, JobStatus

from images.models.rollout import Phase, RolloutStatus, StepStatus
from job_runs.models import JobRun, RunStatus
from nodes.models import FenceRestart
from sandbox import layout
from stackato_dash import queueing
from support import locked_database
from support.fleet_picture import ended, nothing_lost, rollout_page
from support.job_stepping import run_jobs_until
from support.rollout_driving import roll_out
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

pytestmark = pytest.mark.django_db(transaction=True)

FINISHED = (RolloutStatus.SUCCEEDED, RolloutStatus.FAILED, RolloutStatus.ROLLED_BACK, RolloutStatus.ERRORED,
            RolloutStatus.CANCELLED)


@pytest.fixture
def workers(worker_alive):
    """Starts a real `manage.py rqworker` process (the test's idle worker,
    there for the console's "is a worker alive?" check, dies when the first
    starts); each is killed at the end."""
    started = []

    def start(**env):
        if not started:
            worker_alive.register_death()
        started.append(start_worker(**env))
        return started[-1]
    yield start
    for worker in started:
        if worker.poll() is None:
            kill_worker(worker)


def _canary_restart_queued(rollout, canary):
    restart = rollout.steps.filter(phase=Phase.RESTART, node__address=canary["address"])
    return run_jobs_until(lambda: restart.filter(status=StepStatus.QUEUED).first(), "the canary's restart queued")


def _rq_status(job_id: str) -> str:
    queue = queueing.get_queue()
    return Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer).get_status()


def _finished(rollout):
    rollout.refresh_from_db()
    return rollout.status in FINISHED


def _all_switched(sandbox) -> dict:
    return {dea["address"]: 1 for dea in layout.deas(sandbox)}


def test_the_database_locked_while_a_step_writes(admin_client, rollout_sandbox, version, starts, workers):
    """The canary's restart is taken by a real worker while another
    connection holds the database's write lock for longer than the worker's
    busy timeout: its job cannot even record that it started, gives up with
    "database is locked", and touches nothing. Once the lock is released,
    the reconciler (the worker's scheduler) finds the job ended by RQ without
    its row, queues the step again, and the rollout goes on to its end."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no lock on the whole database (its row locks: test_rollout_recovery)")
    canary = layout.deas(rollout_sandbox)[0]
    rollout = roll_out(admin_client, version)
    step = _canary_restart_queued(rollout, canary)
    with locked_database.write_lock():
        workers(**locked_database.short_timeout_worker_env())
        wait_until(lambda: _rq_status(step.job_id) == JobStatus.FAILED,
                   "the step's job to give up on the locked database", timeout=120)
        # While locked: the step never started, nothing was restarted, no row written.
        step.refresh_from_db()
        assert step.status == StepStatus.QUEUED, (step.status, step.output)
        assert starts.since()[canary["address"]] == 0
        assert not FenceRestart.objects.filter(node_address=canary["address"]).exists()
    wait_until(lambda: _finished(rollout), "the rollout to end after the lock was released", timeout=300, interval=1)

    ended(admin_client, rollout, RolloutStatus.SUCCEEDED, "4 node(s) run")
    lost = JobRun.objects.get(rq_job_id=step.job_id)
    assert lost.status == RunStatus.ERRORED and "database is locked" in lost.reason, lost.reason
    # The operator reads on the rollout page why the canary's restart ran twice.
    decision = f"{Phase.RESTART} on {canary['address']}: lost: RQ ended its job as failed"
    assert decision in rollout.decisions and "database is locked" in rollout.decisions, rollout.decisions
    assert "database is locked" in rollout_page(admin_client, rollout)
    step.refresh_from_db()
    assert (step.status, step.attempt) == (StepStatus.SUCCEEDED, 1), step.output
    nothing_lost(rollout_sandbox, starts, _all_switched(rollout_sandbox))


def test_two_workers_race_for_the_same_step(admin_client, rollout_sandbox, version, starts, workers):
    """The canary's restart job is delivered twice (RQ delivers at least
    once) to two idle workers at the same moment: both run the job, one
    claims the step and restarts fence, the other finds it claimed and does
    nothing."""
    canary = layout.deas(rollout_sandbox)[0]
    rollout = roll_out(admin_client, version)
    step = _canary_restart_queued(rollout, canary)
    queue = queueing.get_queue()
    queue.remove(step.job_id)  # held back until both workers wait on the queue
    wait_until_registered(workers(), workers())
    with queue.connection.pipeline() as both:
        queue.push_job_id(step.job_id, pipeline=both)
        queue.push_job_id(step.job_id, pipeline=both)
        both.execute()
    wait_until(lambda: _finished(rollout), "the rollout to end", timeout=300, interval=1)

    ended(admin_client, rollout, RolloutStatus.SUCCEEDED, "4 node(s) run")
    # Both deliveries ran the job (the lifecycle counts each), one ran the step.
    assert JobRun.objects.get(rq_job_id=step.job_id).attempts == 2
    step.refresh_from_db()
    assert (step.status, step.attempt) == (StepStatus.SUCCEEDED, 1), step.output
    assert FenceRestart.objects.filter(node_address=canary["address"]).count() == 1
    nothing_lost(rollout_sandbox, starts, _all_switched(rollout_sandbox))
