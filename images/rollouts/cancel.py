"""Cancel a rollout (beside start and undo): the request is a flag on the
row; the engine (engine.py) acts on it at its next decision. Cancel never
skips a config revert, and once the cluster config names the target the
operator chooses: stop here (the rollout page then says which nodes run the
target and which config the cluster has) or stop and roll back."""
from django.db import transaction

from images.models.rollout import NOT_STARTED, Phase, Rollout, RolloutStatus, StepStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import engine
from images.rollouts.jobs import enqueue_advance

STOP, ROLL_BACK = "stop", "rollback"
CHOICES = [(STOP, "Stop here: start no further step, leave the nodes where they are"),
           (ROLL_BACK, "Stop and roll back: set the config back and restart the nodes already switched")]


class CancelRefused(Exception):
    """Nothing was changed; the message says why."""


def refusal(rollout) -> str:
    if rollout.is_finished:
        return f"it has already ended ({rollout.get_status_display()}): nothing to cancel"
    if rollout.status == RolloutStatus.ROLLING_BACK:
        return "it is rolling back, and a rollback always completes (the config is set back first)"
    return ""


def config_touched(rollout) -> bool:
    """The config step has run or is running: the config may name the target."""
    return rollout.steps.filter(phase=Phase.CONFIG).exclude(
        status__in=(StepStatus.PENDING, StepStatus.SKIPPED)).exists()


def effect(rollout) -> str:
    """What each choice does now, for the confirmation page."""
    if not config_touched(rollout):
        return ("No further step starts. The cluster config has not been changed and no fence was restarted, "
                "so both choices end the same way: nothing to roll back.")
    back = (f"Stop and roll back: the config is set back to {rollout.previous_image} and every node moved to "
            f"{rollout.target_image} is moved back." if rollout.previous_image else
            "Stop and roll back is not possible: the image it replaced is unknown; it stops here.")
    if rollout.cluster.fence_reloads_on_change:
        here = (f"Stop here: the config names (or is being set to) {rollout.target_image}, and every DEA reloads "
                "on it (3.0.1+): each reload is still verified and audited, then the rollout ends cancelled.")
    else:
        here = (f"Stop here: the config names (or is being set to) {rollout.target_image}; no further fence is "
                "restarted, and the rollout page lists which nodes run it and which still run "
                f"{rollout.previous_image or 'the image before'} until their next fence restart.")
    return f"{here} {back}"


def request(rollout, *, roll_back: bool, user=None) -> str:
    """Records the cancel (a RolloutEvent with who asked: a protected
    cluster's request can end this way as well as by rejection) and asks
    the engine to decide; returns what to tell the operator."""
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        why_not = refusal(locked)
        if why_not:
            raise CancelRefused(f"{locked}: {why_not}.")
        by = f" by {user.get_username()}" if user is not None else ""
        if locked.status in NOT_STARTED:
            # Nothing ran and no step is in flight: it ends here, freeing the cluster.
            ended = f"cancelled{by} while {locked.get_status_display()}: nothing was changed on the cluster"
            RolloutEvent.record(locked, EventKind.CANCEL_REQUESTED, user=user, reason=ended)
            locked.steps.filter(status=StepStatus.PENDING).update(status=StepStatus.SKIPPED)
            engine.finish(locked, RolloutStatus.CANCELLED, ended)
            locked.save(update_fields=["status", "status_reason", "finished_at", "decisions"])
            return f"{locked}: cancelled before it started; nothing was changed."
        choice = "stop and roll back" if roll_back else "stop here"
        RolloutEvent.record(locked, EventKind.CANCEL_REQUESTED, user=user, reason=choice)
        locked.cancel_requested, locked.cancel_rolls_back = True, roll_back
        engine.decide(locked, f"cancel requested: {choice}")
        locked.save(update_fields=["cancel_requested", "cancel_rolls_back", "decisions"])
        enqueue_advance(locked.pk)  # after commit
    return f"{locked}: cancel requested ({'stop and roll back' if roll_back else 'stop here'}); it acts before its next step."
