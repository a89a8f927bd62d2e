"""Pause and resume a rollout (beside cancel): the pause is a flag on the
row that the engine (engine.py) reads at every decision. While it is set
the steps in flight finish (each still decides when it ends) and no further
step is started; resuming clears it and has the rollout decide at once.
Nothing waits or polls while paused: no job is in flight, so the reconciler
has nothing to find, and cancel still works (it is a flag too).
Who paused and resumed, and when: a RolloutEvent each."""
from django.db import transaction

from images.models.rollout import IN_FLIGHT, NOT_STARTED, Rollout, RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import engine
from images.rollouts.jobs import enqueue_advance


class PauseRefused(Exception):
    """Nothing was changed; the message says why."""


def pause_refusal(rollout) -> str:
    if rollout.is_finished:
        return f"it has already ended ({rollout.get_status_display()}): nothing to pause"
    if rollout.status in NOT_STARTED:
        # Refused rather than kept: a pause set now would hold the rollout the
        # moment approval or its window starts it, and a later Resume would
        # start its steps outside that window.
        return (f"it has not started yet ({rollout.get_status_display()}): nothing runs to pause; "
                "Cancel ends it")
    if rollout.status == RolloutStatus.ROLLING_BACK:
        return "it is rolling back, and a rollback always completes (the config is set back first)"
    if rollout.paused:
        return "it is already paused"
    return ""


def resume_refusal(rollout) -> str:
    if rollout.is_finished:
        return f"it has already ended ({rollout.get_status_display()}): nothing to resume"
    if not rollout.paused:
        return "it is not paused"
    return ""


def in_flight(rollout) -> int:
    return rollout.steps.filter(status__in=IN_FLIGHT).count()


def pause(rollout, *, user) -> str:
    """Records the pause; returns what to tell the operator."""
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        why_not = pause_refusal(locked)
        if why_not:
            raise PauseRefused(f"{locked}: {why_not}.")
        running = in_flight(locked)
        locked.paused = True
        engine.decide(locked, f"paused by {user.get_username()}: {running} step(s) in flight finish, "
                              "no further step starts until it is resumed")
        locked.save(update_fields=["paused", "decisions"])
        RolloutEvent.record(locked, EventKind.PAUSED, user=user, reason=f"{running} step(s) in flight")
    return f"{locked}: paused; the {running} step(s) in flight finish and no further step starts until it is resumed."


def resume(rollout, *, user) -> str:
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        why_not = resume_refusal(locked)
        if why_not:
            raise PauseRefused(f"{locked}: {why_not}.")
        locked.paused = False
        engine.decide(locked, f"resumed by {user.get_username()}")
        locked.save(update_fields=["paused", "decisions"])
        RolloutEvent.record(locked, EventKind.RESUMED, user=user)
        enqueue_advance(locked.pk)  # after commit: the steps it held start now
    # Resume ends the pause, not the wait at the gate: say so, or the operator waits for batches.
    gate = "; it still waits at its manual gate for Continue or Roll back" \
        if locked.status == RolloutStatus.AWAITING_GATE and not locked.gate_decision else ""
    return f"{locked}: resumed{gate}."
