"""Two-person approval on protected clusters: a rollout, rollback or undo
waits in "awaiting_approval" until a second user with the Release manager
role approves it (never the user who requested it: checked here, on the
server, for the admin page, the CLI and the REST API alike). A rejection
ends it with the reason; a request not answered before approval_expires_at
(set at request time from Cluster.approval_expiry_minutes) is ended by the
reconciler's sweep. Ended, it no longer holds the cluster's in-progress
slot. Every request, approval, rejection and expiry is a RolloutEvent.

After approval the maintenance windows apply (windows.begin)."""
from django.db import transaction
from django.utils import timezone

from images.models.rollout import Rollout, RolloutStatus, StepStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import engine, windows

ROLE_PERMISSION = "images.activate_rollout"  # the Release manager role (nodes/migrations/0003_roles.py)


class ApprovalRefused(Exception):
    """Nothing was changed; the message says why."""


def request(rollout) -> None:
    """Record the request of a rollout just created awaiting approval (its
    requester is who started it). The caller saves the row."""
    RolloutEvent.record(rollout, EventKind.APPROVAL_REQUESTED, user=rollout.requested_by, reason=rollout.reason)
    engine.decide(rollout, f"{rollout.cluster} is protected: awaiting approval by a second Release manager until "
                           f"{rollout.approval_expires_at:%Y-%m-%d %H:%M:%S} UTC")


def is_requester(rollout, user) -> bool:
    # By id, and by the copied name too: a requester whose account was
    # deleted and made again under the same name is still the requester.
    return user.pk == rollout.requested_by_id or user.get_username() == rollout.requested_by_username


def refusal(rollout, user=None) -> str:
    """Why `user` may not approve or reject this rollout now ('' if they may)."""
    if rollout.status != RolloutStatus.AWAITING_APPROVAL:
        return f"it is {rollout.get_status_display()}, not awaiting approval"
    if user is not None and not user.has_perm(ROLE_PERMISSION):
        return "only a user with the Release manager role can approve or reject it"
    return ""


def _locked(rollout):
    return Rollout.objects.select_for_update().select_related("cluster").get(pk=rollout.pk)


def _end(rollout, reason: str) -> None:
    """Ended before anything ran: its planned pulls are skipped, the slot freed."""
    rollout.steps.filter(status=StepStatus.PENDING).update(status=StepStatus.SKIPPED)
    engine.finish(rollout, RolloutStatus.CANCELLED, reason)
    rollout.save(update_fields=["status", "status_reason", "finished_at", "decisions"])


def approve(rollout, user) -> str:
    """The second Release manager's approval; returns what to tell them."""
    expired = False
    with transaction.atomic():
        locked = _locked(rollout)
        why_not = refusal(locked, user)
        if why_not:
            raise ApprovalRefused(f"{locked}: {why_not}.")
        if is_requester(locked, user):
            raise ApprovalRefused(f"{locked}: you requested it; a second Release manager must approve it.")
        if locked.approval_expires_at <= timezone.now():
            _expire(locked)
            expired = True
        else:
            locked.approved_by, locked.approved_by_username = user, user.get_username()
            RolloutEvent.record(locked, EventKind.APPROVED, user=user)
            engine.decide(locked, f"approved by {user.get_username()}")
            windows.begin(locked)
            locked.save(update_fields=["status", "approved_by", "approved_by_username", "decisions"])
    if expired:
        raise ApprovalRefused(f"{locked}: {locked.status_reason}.")
    if locked.status == RolloutStatus.WAITING_FOR_WINDOW:
        return f"{locked}: approved; it waits for its maintenance window ({windows.waiting_note(locked.cluster)})."
    return f"{locked}: approved; it starts now."


def reject(rollout, user, reason: str) -> str:
    if not reason.strip():
        raise ApprovalRefused("A reason is required to reject: it is recorded and shown to the requester.")
    expired = False
    with transaction.atomic():
        locked = _locked(rollout)
        why_not = refusal(locked, user)
        if why_not:
            raise ApprovalRefused(f"{locked}: {why_not}.")
        if locked.approval_expires_at <= timezone.now():
            # Past its deadline nobody decides it any more (as for approve): it expired.
            _expire(locked)
            expired = True
        else:
            RolloutEvent.record(locked, EventKind.REJECTED, user=user, reason=reason.strip())
            _end(locked, f"rejected by {user.get_username()}: {reason.strip()}")
    if expired:
        raise ApprovalRefused(f"{locked}: {locked.status_reason}.")
    return f"{locked}: rejected; nothing was changed on {locked.cluster}."


def _expire(locked) -> None:
    # The deadline fixed at request time, not the cluster's expiry now (it may have been changed since).
    deadline = f"{locked.approval_expires_at:%Y-%m-%d %H:%M:%S} UTC"
    RolloutEvent.record(locked, EventKind.APPROVAL_EXPIRED, reason=f"not approved before its deadline, {deadline}")
    _end(locked, f"approval expired: nobody approved it before {deadline}; nothing was changed on the cluster")


def expire_overdue(now=None) -> list[str]:
    """Reconciler sweep: end every request past its deadline."""
    now = now or timezone.now()
    ended = []
    overdue = Rollout.objects.filter(status=RolloutStatus.AWAITING_APPROVAL, approval_expires_at__lte=now)
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            locked = Rollout.objects.select_for_update().select_related("cluster").get(pk=pk)
            if locked.status != RolloutStatus.AWAITING_APPROVAL or locked.approval_expires_at > now:
                continue  # approved or rejected meanwhile
            _expire(locked)
        ended.append(f"{locked}: {locked.status_reason}")
    return ended

