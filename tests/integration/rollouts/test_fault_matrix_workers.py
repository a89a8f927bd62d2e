"""Issue 10's fault matrix, the rows about the job system (docs/operations.md):
a worker SIGKILLed in each phase, Redis losing the queued jobs. The checks are test_fault_matrix.py's: the rollout's
honest end on its page, one audit row per fence start on every DEA, none
left "outcome unknown", and the console's per-node picture equal to the
nodes'. Recovery goes through the job reconciler's pass (job_runs/), the
one RQ's scheduler runs every chain.PERIOD seconds."""

import pytest

from images.models.rollout import Phase, RolloutStatus, StepStatus
from job_runs import reconciler
from job_runs.models import JobRun
from nodes.models import FenceRestart
from sandbox import layout
from stackato_dash import queueing
from support import faults
from support.fleet_picture import ended, nothing_lost
from support.job_stepping import run_jobs_until
from support.rollout_driving import roll_out
from support.rq import run_queued_jobs
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered


pytestmark = pytest.mark.django_db(transaction=True)



def _all_switched(sandbox) -> dict:
    return {dea["address"]: 1 for dea in layout.deas(sandbox)}


@pytest.mark.parametrize("phase", [Phase.PULL, Phase.CONFIG, Phase.RESTART])
def test_a_worker_killed_in_a_phase(admin_client, rollout_sandbox, version, starts, worker_alive, phase):
    """Killed while the step connects to its node (the node's sshd frozen holds
    it there): for a restart, before the audit row and the restart command.
    The step is the canary's pull, the config set on the Core node, or the
    restart of a DEA of the second batch."""
    deas = layout.deas(rollout_sandbox)
    node = {Phase.PULL: deas[0], Phase.CONFIG: layout.node(rollout_sandbox, "core"), Phase.RESTART: deas[2]}[phase]
    worker_alive.register_death()  # from here a real worker process carries the jobs
    worker = start_worker()
    try:
        wait_until_registered(worker)
        rollout = roll_out(admin_client, version)
        if phase == Phase.RESTART:  # its pull went through first
            # The restart rows are created once every pull is done (the smoke rows exist from the start).
            wait_until(lambda: rollout.steps.filter(phase=Phase.CONFIG).exists(), "every pull done", timeout=180)
        with faults.frozen_sshd(node):
            step = wait_until(lambda: rollout.steps.filter(phase=phase, node__address=node["address"],
                                                           status=StepStatus.RUNNING).first(),
                              f"the {phase} step on {node['address']} running", timeout=180)
            kill_worker(worker)
    finally:
        if worker.poll() is None:
            kill_worker(worker)
    step.refresh_from_db()
    assert step.status == StepStatus.RUNNING, "the step ended before its worker was killed: the kill came too late"
    # SIGKILL is delivered, not yet done: the reconciler rightly leaves a work horse still alive.
    horse = JobRun.objects.get(rq_job_id=step.job_id).pid
    wait_until(lambda: not reconciler._pid_alive(horse), f"work horse {horse} gone after SIGKILL", timeout=30)
    assert not FenceRestart.objects.filter(node_address=node["address"]).exists()

    report = reconciler.reconcile(queueing.get_queue())
    assert [line for line in report if f"{phase} on {node['address']}" in line and "lost" in line], report
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.SUCCEEDED, "4 node(s) run")
    step.refresh_from_db()
    assert (step.status, step.attempt) == (StepStatus.SUCCEEDED, 2), step.output
    nothing_lost(rollout_sandbox, starts, _all_switched(rollout_sandbox))


def test_redis_loses_the_queued_steps(admin_client, rollout_sandbox, version, starts):
    """A Redis restarted without its append-only file forgets the queue: the
    second batch's restarts were queued, and are no more."""
    rollout = roll_out(admin_client, version)
    batch = rollout.steps.filter(phase=Phase.RESTART, batch=1)
    run_jobs_until(lambda: batch.filter(status=StepStatus.QUEUED).exists(), "the second batch queued")
    queued = list(rollout.steps.filter(status=StepStatus.QUEUED).values_list("job_id", flat=True))
    assert faults.forget_queued_jobs(queueing.get_queue(), queued) == queued
    run_queued_jobs()  # nothing left to run: the rollout waits on steps nobody will run
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVATING
    # The reconciler's pass requeues them once they are past its grace period.
    report = wait_until(lambda: reconciler.reconcile(queueing.get_queue()), "the reconciler to find them",
                        timeout=60, interval=1)
    assert len([line for line in report if "no longer in Redis; queued again" in line]) == len(queued), report
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.SUCCEEDED, "4 node(s) run")
    nothing_lost(rollout_sandbox, starts, _all_switched(rollout_sandbox))
