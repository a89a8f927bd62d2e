"""RQ entry points for rollouts: they take ids only and re-read the rows."""
from django.conf import settings

from images.rollouts import engine, fence_check, steps
from stackato_dash import queueing


def run_rollout_step(step_id: int) -> None:
    try:
        steps.run(step_id)
    finally:
        # Whatever happened to this step, the rollout decides what comes next.
        from images.models.rollout import RolloutStep
        engine.advance(RolloutStep.objects.values_list("rollout_id", flat=True).get(pk=step_id))


def advance_rollout(rollout_id) -> None:
    engine.advance(rollout_id)


def enqueue_step(step) -> None:
    # Long enough for a reload that does not show (3.0.1+), then fence settling,
    # the restart command, fence coming up and the health wait.
    timeout = int(settings.SSH_COMMAND_TIMEOUT + fence_check.RELOAD_WAIT + 2 * fence_check.FENCE_START_TIMEOUT
                  + step.rollout.health_wait + 120)
    queueing.enqueue(run_rollout_step, step.pk, job_id=step.job_id, job_timeout=timeout,
                     description=f"rollout {step.rollout_id}: {step.phase} on {step.node.address}")


def enqueue_advance(rollout_id) -> None:
    # A rollout's id is a UUID: it travels as a string (jobs are JSON).
    queueing.enqueue(advance_rollout, str(rollout_id), description=f"rollout {rollout_id}: decide")
