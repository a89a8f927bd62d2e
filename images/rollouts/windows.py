"""Maintenance windows for rollouts: outside its cluster's weekly windows a
rollout is prepared (its plan and pull steps exist) but waits in
"waiting_for_window"; the reconciler (job_runs/reconciler.py, every few
seconds) starts it when a window opens, or a Release manager starts it at
once with an override, recorded with its reason (RolloutEvent).

With two-person approval (approval.py) the approval comes first, at any
time; an approved rollout outside a window then waits for the window. The
window is checked when the rollout would start (on request, on approval),
not again once it runs: a rollout started inside a window finishes even if
the window closes meanwhile (stopping half-way would be worse).
"""
import logging

from django.db import transaction
from django.utils import timezone

from images.models.rollout import Rollout, RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import engine, jobs
from nodes import maintenance_windows

log = logging.getLogger(__name__)

ROLE_PERMISSION = "images.activate_rollout"  # the Release manager role


class WindowRefused(Exception):
    """Nothing was changed; the message says why."""


def _windows(cluster) -> list:
    return [window.as_window() for window in cluster.maintenance_windows.all()]


def is_open(cluster, now=None) -> bool:
    return maintenance_windows.is_open(_windows(cluster), cluster.windows_timezone, now or timezone.now())


def next_opening(cluster, now=None):
    return maintenance_windows.next_opening(_windows(cluster), cluster.windows_timezone, now or timezone.now())


def waiting_note(cluster, now=None) -> str:
    opens = next_opening(cluster, now)
    when = f"the next opens {opens:%a %Y-%m-%d %H:%M} {cluster.windows_timezone}" if opens else "no window opens"
    return f"outside {cluster}'s maintenance windows ({maintenance_windows.describe(_windows(cluster), cluster.windows_timezone)}); {when}"


def begin(rollout, now=None) -> None:
    """A rollout allowed to start (not protected, or just approved): start it
    if a window is open, else wait for one. The caller holds the row and saves it."""
    if is_open(rollout.cluster, now):
        _start(rollout, "starting: " + ("inside a maintenance window" if _windows(rollout.cluster)
                                        else "the cluster has no maintenance window"))
        return
    note = waiting_note(rollout.cluster, now)
    rollout.status = RolloutStatus.WAITING_FOR_WINDOW
    engine.decide(rollout, f"waiting for a maintenance window: {note}")
    RolloutEvent.record(rollout, EventKind.WINDOW_WAITING, reason=note)


def _start(rollout, line: str) -> None:
    rollout.status = RolloutStatus.PLANNED
    engine.decide(rollout, line)
    jobs.enqueue_advance(rollout.pk)  # after commit


def override_refusal(rollout) -> str:
    if rollout.status != RolloutStatus.WAITING_FOR_WINDOW:
        return f"it is {rollout.get_status_display()}, not waiting for a maintenance window"
    return ""


def override(rollout, user, reason: str) -> str:
    """Start now, outside the window: the reason goes into the record."""
    if not user.has_perm(ROLE_PERMISSION):
        raise WindowRefused("Only a Release manager can start a rollout outside its maintenance window.")
    if not reason.strip():
        raise WindowRefused("A reason is required to start outside the maintenance window: it is recorded.")
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().select_related("cluster").get(pk=rollout.pk)
        why_not = override_refusal(locked)
        if why_not:
            raise WindowRefused(f"{locked}: {why_not}.")
        RolloutEvent.record(locked, EventKind.WINDOW_OVERRIDE, user=user, reason=reason.strip())
        _start(locked, f"started outside its maintenance window by {user.get_username()} (override): {reason.strip()}")
        locked.save(update_fields=["status", "decisions"])
    return f"{locked}: started outside its maintenance window (override recorded)."


def start_opened(now=None) -> list[str]:
    """Reconciler sweep: start every waiting rollout whose window is open."""
    now = now or timezone.now()
    started = []
    for rollout in Rollout.objects.filter(status=RolloutStatus.WAITING_FOR_WINDOW).select_related("cluster"):
        try:
            if _start_if_open(rollout, now):
                started.append(f"{rollout}: its maintenance window opened; started")
        except Exception as error:  # noqa: BLE001 - one bad cluster row must not hold every other rollout back
            log.exception("maintenance window sweep: %s", rollout)
            started.append(f"{rollout}: its window could not be looked at: {error.__class__.__name__}: {error}")
    return started


def _start_if_open(rollout, now) -> bool:
    if not is_open(rollout.cluster, now):
        return False
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().select_related("cluster").get(pk=rollout.pk)
        if locked.status != RolloutStatus.WAITING_FOR_WINDOW or not is_open(locked.cluster, now):
            return False  # overridden or cancelled, or its windows changed, meanwhile
        window = maintenance_windows.open_window(_windows(locked.cluster), locked.cluster.windows_timezone, now)
        # Open with no window open: the cluster's windows were all removed.
        why = f"window open: {window}" if window else f"{locked.cluster} has no maintenance window any more"
        RolloutEvent.record(locked, EventKind.WINDOW_OPENED, reason=why)
        _start(locked, f"maintenance window open ({window}): starting" if window else f"starting: {why}")
        locked.save(update_fields=["status", "decisions"])
    return True
