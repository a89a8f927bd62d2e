"""Lifting a protected cluster's protection takes two Release managers, as
the rollouts it guards do (images/rollouts/approval.py): otherwise one of
them could untick Protected, roll out alone and tick it again.

The first Release manager's untick does not lift it: it records a request
(who, when, until when: the cluster's approval_expiry_minutes). A second,
different Release manager unticking it before that deadline lifts it. The
requester confirming their own request is refused (by account and by the
copied name, as approval.is_requester); an expired request counts for
nothing, and the next untick is a new request. Turning protection on stays
one person's act: it only adds a control. A superuser holds every
permission, so counts as a Release manager, and is never their own second
(as for approvals: no special case).

The request, the lift and a refused self-confirmation are written to the
cluster's admin history (LogEntry): that is where an auditor of a cluster's
settings reads who changed what and when; a RolloutEvent belongs to a
rollout, and a lift has none."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from nodes.models import Cluster

ROLE_PERMISSION = "images.activate_rollout"  # the Release manager role, as in approval.py
REQUEST_FIELDS = ["protected", "protection_lift_requested_by", "protection_lift_requested_by_username",
                  "protection_lift_requested_at", "protection_lift_expires_at"]


class LiftRefused(Exception):
    """Nothing was changed; the message says why."""


@dataclass(frozen=True)
class Untick:
    """What a Release manager's untick of Protected does: lift (it confirms
    another's pending request) or request."""
    lifts: bool
    requested_by_username: str
    requested_at: datetime
    expires_at: datetime
    expired_request: str = ""  # an earlier request that expired unconfirmed, said plainly


def at(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def pending(cluster, now=None) -> bool:
    expires = cluster.protection_lift_expires_at
    return cluster.protected and expires is not None and expires > (now or timezone.now())


def _is_requester(cluster, user) -> bool:
    return user.pk == cluster.protection_lift_requested_by_id or \
        user.get_username() == cluster.protection_lift_requested_by_username


def record(user, cluster, text: str) -> None:
    """One line in the cluster's admin history."""
    LogEntry.objects.log_actions(user_id=user.pk, queryset=[cluster], action_flag=CHANGE, change_message=text,
                                 single_object=True)


def decide(cluster, user, now=None) -> Untick:
    """`user` unticked Protected on `cluster`. Call inside the transaction that
    saves the cluster: the row stays locked until then, so of two confirmations
    at once one lifts and the other finds it lifted. Raises LiftRefused (a
    self-confirmation is also recorded)."""
    now = now or timezone.now()
    if not user.has_perm(ROLE_PERMISSION):
        raise LiftRefused("Only a Release manager can lift a cluster's protection.")
    locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if not locked.protected:
        raise LiftRefused("Protection was lifted meanwhile; reload the page to see the cluster as it is now.")
    if pending(locked, now):
        requester, requested_at = locked.protection_lift_requested_by_username, locked.protection_lift_requested_at
        if _is_requester(locked, user):
            record(user, locked, f"Refused: {user.get_username()} tried to confirm their own request (of "
                                 f"{at(requested_at)}) to lift protection; protection stays on.")
            raise LiftRefused(f"You requested this lift at {at(requested_at)}: a second, different Release manager "
                              f"must confirm it before {at(locked.protection_lift_expires_at)}. Protection stays on.")
        return Untick(lifts=True, requested_by_username=requester, requested_at=requested_at,
                      expires_at=locked.protection_lift_expires_at)
    expired = ""
    if locked.protection_lift_expires_at is not None:
        expired = (f"The earlier request by {locked.protection_lift_requested_by_username} expired unconfirmed at "
                   f"{at(locked.protection_lift_expires_at)}.")
    return Untick(lifts=False, requested_by_username=user.get_username(), requested_at=now,
                  expires_at=now + timedelta(minutes=locked.approval_expiry_minutes), expired_request=expired)


def apply(cluster, untick: Untick, user) -> str:
    """Sets the cluster's fields (the caller saves it); returns what to tell
    the user and to write in the cluster's history."""
    if untick.lifts:
        cluster.protected = False
        cluster.protection_lift_requested_by = None
        cluster.protection_lift_requested_by_username = ""
        cluster.protection_lift_requested_at = cluster.protection_lift_expires_at = None
        return (f"Protection lifted: requested by {untick.requested_by_username} at {at(untick.requested_at)}, "
                f"confirmed by {user.get_username()}.")
    cluster.protected = True
    cluster.protection_lift_requested_by = user
    cluster.protection_lift_requested_by_username = untick.requested_by_username
    cluster.protection_lift_requested_at, cluster.protection_lift_expires_at = untick.requested_at, untick.expires_at
    return " ".join(filter(None, [
        untick.expired_request,
        f"Protection lift requested by {untick.requested_by_username}: protection stays on until a second Release "
        f"manager confirms the lift (by unticking Protected and saving); the request expires at "
        f"{at(untick.expires_at)}."]))


def describe(cluster, now=None) -> str:
    """The cluster page's line on lifting protection."""
    if not cluster.protected:
        return "Not protected."
    if pending(cluster, now):
        return (f"Requested by {cluster.protection_lift_requested_by_username} at "
                f"{at(cluster.protection_lift_requested_at)}. Protection stays on until a second Release manager "
                f"confirms by unticking Protected and saving, before {at(cluster.protection_lift_expires_at)} "
                "(then the request expires).")
    return ("None pending. Unticking Protected and saving requests the lift; a second, different Release manager "
            "confirms it the same way.")
