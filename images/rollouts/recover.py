"""A rollout step whose job was lost (its worker killed, Redis emptied) is
queued again, and the rollout decides anew. The reconciler (job_runs/)
finds the lost job and calls this, while other workers go on working.

Queueing it again never repeats a restart the node shows: every step looks
at the node first (steps.py), and a restart step on its second attempt
finds the fence its lost worker started instead of restarting it."""
from django.db import transaction

from images.models.rollout import IN_FLIGHT, Rollout, RolloutStep, StepStatus
from images.rollouts import engine


def requeue_lost_step(step_id: int, reason: str):
    """Back to pending, with the reason among the rollout's decisions; returns
    the rollout's id, for the caller (jobs.py) to have it decide, which
    queues the step again."""
    rollout_id = RolloutStep.objects.values_list("rollout_id", flat=True).get(pk=step_id)
    with transaction.atomic():
        # The rollout's lock first, as engine.advance takes it.
        rollout = Rollout.objects.select_for_update().get(pk=rollout_id)
        step = RolloutStep.objects.select_related("node").get(pk=step_id)
        if step.status not in IN_FLIGHT:
            return rollout_id  # it ended after all (the reconciler looked at an old picture)
        step.status = StepStatus.PENDING
        step.save(update_fields=["status"])
        engine.decide(rollout, f"{step.phase} on {step.node.address}: {reason}; queued again "
                               "(the step looks at the node first)")
        rollout.save(update_fields=["decisions"])
    return rollout_id
