"""The manual gate: a rollout whose strategy asked for one waits after its
canaries (status awaiting gate, engine.py) until someone with the role
presses Continue or Roll back on its page. The choice is recorded on the row
(gate_decision) and as a RolloutEvent with who and when; the engine acts on
it at once, in a worker: Continue starts the other DEAs, Roll back takes
the rollout's ordinary rollback path (config back first, then the canaries)."""
from django.db import transaction

from images.models.rollout import GateDecision, Rollout, RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import engine
from images.rollouts.jobs import enqueue_advance

EVENTS = {GateDecision.CONTINUE: EventKind.GATE_CONTINUED, GateDecision.ROLL_BACK: EventKind.GATE_ROLLED_BACK}


class GateRefused(Exception):
    """Nothing was changed; the message says why."""


def refusal(rollout) -> str:
    if rollout.status != RolloutStatus.AWAITING_GATE:
        return f"it is not waiting at a manual gate ({rollout.get_status_display()})"
    if rollout.gate_decision:
        return f"{rollout.get_gate_decision_display()} was already chosen at its gate"
    return ""


def effect(rollout, choice: str) -> str:
    """What the choice does, for the confirmation page."""
    if choice == GateDecision.CONTINUE:
        held = " It is paused: they start when it is resumed." if rollout.paused else ""
        return f"The rest start: every other DEA's fence is restarted onto {rollout.target_image}.{held}"
    if not rollout.previous_image:
        return "The image it replaced is unknown, so nothing can be rolled back: it stops here, cancelled."
    return (f"The cluster config is set back to {rollout.previous_image}, then each canary's fence is restarted "
            "onto it; the other DEAs were never switched.")


def choose(rollout, choice: str, *, user) -> str:
    """Records what was pressed and has the rollout act on it; returns what to tell the operator."""
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        why_not = refusal(locked)
        if why_not:
            raise GateRefused(f"{locked}: {why_not}.")
        locked.gate_decision = choice
        engine.decide(locked, f"manual gate: {locked.get_gate_decision_display()} chosen by {user.get_username()}")
        locked.save(update_fields=["gate_decision", "decisions"])
        RolloutEvent.record(locked, EVENTS[choice], user=user)
        enqueue_advance(locked.pk)  # after commit
    # The pause still holds the other DEAs (a rollback is never held).
    held = "; it is paused: the other DEAs start when it is resumed" \
        if locked.paused and choice == GateDecision.CONTINUE else ""
    return f"{locked}: {locked.get_gate_decision_display()} chosen at the manual gate{held}."
