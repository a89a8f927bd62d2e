"""Two people (or a person and the reconciler) acting on the same waiting
rollout at the same moment (images/rollouts/approval.py, windows.py,
cancel.py): each runs in its own thread with its own database connection,
released together, so whichever order the database gives them, exactly one
decision wins, exactly one event records it and the rollout's first decision
is queued at most once. Real Redis (an idle registered worker: the queued
jobs are counted, not run)."""
import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone

from images.models import RolloutEvent
from images.models.rollout import Rollout, RolloutStatus
from images.models.rollout_event import EventKind
from images.rollouts import approval, cancel, governance, start, windows
from nodes.models import Cluster, MaintenanceWindow, Node
from support.image_versions import draft_version
from support.writers_at_once import actions_at_once

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = importlib.import_module("nodes.migrations.0003_roles")
TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}
REFUSALS = (approval.ApprovalRefused, windows.WindowRefused, cancel.CancelRefused)


@pytest.fixture
def managers(django_user_model):
    ROLES.create_roles(apps, None)
    group = Group.objects.get(name="Release manager")
    made = []
    for name in ("alice", "bob", "carol"):
        user = django_user_model.objects.create_user(name, password="x", is_staff=True)
        user.groups.add(group)
        made.append(user)
    return made


def requested(user, *, protected=True, window_closed=False) -> Rollout:
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", protected=protected)
    if window_closed:  # a one-hour window that opened 3 hours ago
        opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone.utc)
        MaintenanceWindow.objects.create(cluster=cluster, weekday=opened.weekday(), start=opened.time(), minutes=60)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=cluster, address="10.0.0.21", roles=["dea"], **TRUSTED)
    version = draft_version(cluster, "2", status="built", image_id="sha256:" + "a" * 64, local=True,
                            engine_reference="exampleco/app:2")
    return start.rollout_version(version, user=user, reason="monthly patch")


def at_once(*actions) -> list:
    """Each action in its own thread and database connection, released together."""
    return actions_at_once(*actions, refusals=REFUSALS)


def kinds(rollout) -> list[str]:
    return list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("kind", flat=True))


def test_two_managers_approving_at_once_approve_it_once(managers, worker):
    alice, bob, carol = managers
    rollout = requested(alice)
    results = at_once(lambda: approval.approve(rollout, bob), lambda: approval.approve(rollout, carol))
    refused = [r for r in results if isinstance(r, approval.ApprovalRefused)]
    assert len(refused) == 1 and "not awaiting approval" in str(refused[0])
    stored = Rollout.objects.get(pk=rollout.pk)
    assert stored.status == RolloutStatus.PLANNED and stored.approved_by_username in ("bob", "carol")
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVED]
    assert worker.count == 1  # its first decision queued once


def test_an_approval_racing_the_expiry_sweep_past_the_deadline_never_approves(managers, worker):
    alice, bob, _ = managers
    rollout = requested(alice)
    Rollout.objects.filter(pk=rollout.pk).update(approval_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    results = at_once(lambda: approval.approve(rollout, bob), governance.sweep)
    assert isinstance(results[0], approval.ApprovalRefused)  # "approval expired" or "not awaiting approval"
    stored = Rollout.objects.get(pk=rollout.pk)
    assert stored.status == RolloutStatus.CANCELLED and stored.status_reason.startswith("approval expired")
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_EXPIRED]
    assert worker.count == 0


def test_an_override_racing_the_window_opening_starts_it_once(managers, worker):
    alice, _, _ = managers
    rollout = requested(alice, protected=False, window_closed=True)
    assert rollout.status == RolloutStatus.WAITING_FOR_WINDOW and worker.count == 0
    # The window made to open now, while the override is pressed.
    now = (timezone.now() - datetime.timedelta(minutes=5)).astimezone(datetime.timezone.utc)
    MaintenanceWindow.objects.filter(cluster=rollout.cluster).update(weekday=now.weekday(), start=now.time())
    results = at_once(lambda: windows.override(rollout, alice, "hotfix"), governance.sweep)
    assert Rollout.objects.get(pk=rollout.pk).status == RolloutStatus.PLANNED
    started = [kind for kind in kinds(rollout) if kind in (EventKind.WINDOW_OVERRIDE, EventKind.WINDOW_OPENED)]
    assert len(started) == 1
    if started == [EventKind.WINDOW_OPENED]:  # the sweep came first: the override is refused, not recorded
        assert isinstance(results[0], windows.WindowRefused)
    assert worker.count == 1  # started once


def test_a_cancel_racing_an_approval_leaves_one_consistent_story(managers, worker):
    alice, bob, _ = managers
    rollout = requested(alice)
    approved, cancelled = at_once(lambda: approval.approve(rollout, bob),
                                  lambda: cancel.request(rollout, roll_back=False, user=alice))
    stored = Rollout.objects.get(pk=rollout.pk)
    if isinstance(approved, approval.ApprovalRefused):  # the cancel came first: ended, never approved
        assert stored.status == RolloutStatus.CANCELLED and worker.count == 0
        assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.CANCEL_REQUESTED]
    else:  # the approval came first: it started, and the cancel is a request its next decision acts on
        assert stored.status == RolloutStatus.PLANNED and stored.cancel_requested
        assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVED, EventKind.CANCEL_REQUESTED]
        assert "cancel requested" in cancelled
