"""Where a new rollout starts its life: on a protected cluster it awaits
approval (approval.py); otherwise, outside the cluster's maintenance windows,
it waits for one (windows.py); otherwise it starts at once. And the
reconciler's pass over the rollouts that wait (job_runs/reconciler.py SWEEPS).

How the two combine: approval first (at any time), then the window. An
approved rollout outside a window waits for it; an override starts it at
once with a recorded reason, never skipping an approval."""
from datetime import timedelta

from django.utils import timezone

from images.models.rollout import RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import approval, engine, jobs, windows


def initial_fields(cluster, now=None) -> dict:
    """The status (and approval deadline) a new rollout on `cluster` is created with."""
    now = now or timezone.now()
    if cluster.protected:
        return {"status": RolloutStatus.AWAITING_APPROVAL,
                "approval_expires_at": now + timedelta(minutes=cluster.approval_expiry_minutes)}
    if not windows.is_open(cluster, now):
        return {"status": RolloutStatus.WAITING_FOR_WINDOW}
    return {}


def begin(rollout) -> None:
    """Just created (inside start's transaction): record why it waits, or queue its first decision."""
    if rollout.status == RolloutStatus.AWAITING_APPROVAL:
        approval.request(rollout)
    elif rollout.status == RolloutStatus.WAITING_FOR_WINDOW:
        note = windows.waiting_note(rollout.cluster)
        RolloutEvent.record(rollout, EventKind.WINDOW_WAITING, reason=note)
        engine.decide(rollout, f"waiting for a maintenance window: {note}")
    else:
        jobs.enqueue_advance(rollout.pk)  # after commit
        return
    rollout.save(update_fields=["decisions"])


def plan_note(cluster) -> str:
    """For the plan page: what will hold the rollout once started ('' if nothing)."""
    notes = []
    if cluster.protected:
        notes.append(f"{cluster} is protected: once requested, the rollout waits for a second Release manager's "
                     f"approval on its page (it expires after {cluster.approval_expiry_minutes} minutes)")
    if not windows.is_open(cluster):
        notes.append(f"it is {windows.waiting_note(cluster)}: the rollout will wait for that window "
                     "(or a Release manager starts it with an override and a reason)")
    return ". ".join(note[0].upper() + note[1:] for note in notes) + ("." if notes else "")


def waiting_for(rollout) -> str:
    """What a rollout waits on a person or a window for, said plainly ('' if it does not wait)."""
    if rollout.status == RolloutStatus.AWAITING_APPROVAL:
        return (f"awaiting approval: {rollout.cluster} is protected; a second Release manager (not "
                f"{rollout.requested_by_username}) must approve it on its page before "
                f"{rollout.approval_expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if rollout.status == RolloutStatus.WAITING_FOR_WINDOW:
        return f"waiting for its maintenance window: {windows.waiting_note(rollout.cluster)}"
    if rollout.status == RolloutStatus.AWAITING_GATE:
        return ("awaiting its manual gate after the canaries: a Release manager presses Continue or Roll back "
                "on its page (manage.py rollout gate)")
    return ""


def sweep() -> list[str]:
    """Every reconciler pass: expired requests end, rollouts whose window opened start."""
    return approval.expire_overdue() + windows.start_opened()
