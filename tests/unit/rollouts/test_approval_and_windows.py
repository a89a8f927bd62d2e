"""Two-person approval and maintenance windows (images/rollouts/approval.py,
windows.py, governance.py), with real Redis and an idle registered worker so
that only governance holds a rollout back: who may approve, expiry and
rejection freeing the cluster, windows over midnight, overrides with their
reason, and the record (RolloutEvent) each leaves."""
import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone

from images.models import RolloutEvent
from images.models.rollout import Rollout, RolloutStatus, StepStatus
from images.models.rollout_event import EventKind, RolloutEventAppendOnly
from images.rollouts import approval, cancel, governance, start, windows
from nodes.models import Cluster, MaintenanceWindow, Node
from notifications.models import Delivery, Event, Webhook
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db

ROLES = importlib.import_module("nodes.migrations.0003_roles")
REGISTRY = "10.0.0.11:5000"
BASE = "stackato/app-holophonor:3.0.0"
TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}
PULLS = {"IndexConfigs": {REGISTRY: {"Name": REGISTRY, "Secure": False, "Mirrors": []}},
         "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []}


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry=REGISTRY, protected=True,
                                     approval_expiry_minutes=30)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], registry_config=PULLS,
                        desired_image=BASE, **TRUSTED)
    return cluster


@pytest.fixture
def people(django_user_model):
    ROLES.create_roles(apps, None)
    managers = Group.objects.get(name="Release manager")
    alice = django_user_model.objects.create_user("alice", password="x", is_staff=True)
    bob = django_user_model.objects.create_user("bob", password="x", is_staff=True)
    olga = django_user_model.objects.create_user("olga", password="x", is_staff=True)
    alice.groups.add(managers)
    bob.groups.add(managers)
    olga.groups.add(Group.objects.get(name="Operator"))
    return alice, bob, olga


def request(cluster, user, tag="1.0.1") -> Rollout:
    version = draft_version(cluster, tag, status="pushed", image_id="sha256:" + "1" * 64,
                            manifest_digest="sha256:" + "2" * 64, registry_reference=f"{REGISTRY}/exampleco/newimg:{tag}")
    return start.rollout_version(version, user=user, reason="monthly patch")


def kinds(rollout) -> list[str]:
    return list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("kind", flat=True))


def test_a_protected_cluster_holds_the_rollout_until_a_second_manager_approves(
        cluster, people, worker, django_capture_on_commit_callbacks):
    alice, bob, _ = people
    with django_capture_on_commit_callbacks(execute=True):
        rollout = request(cluster, alice)
    assert rollout.status == RolloutStatus.AWAITING_APPROVAL
    assert worker.count == 0  # nothing queued: nothing runs before approval
    # The deadline is the cluster's 30 minutes after the request (both stamped within the same call).
    assert abs(rollout.approval_expires_at - rollout.created_at - datetime.timedelta(minutes=30)) < datetime.timedelta(seconds=5)

    with pytest.raises(approval.ApprovalRefused, match="you requested it; a second Release manager must approve"):
        approval.approve(rollout, alice)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_APPROVAL

    with django_capture_on_commit_callbacks(execute=True):
        said = approval.approve(rollout, bob)
    rollout.refresh_from_db()
    assert said.endswith("approved; it starts now.")
    assert (rollout.status, rollout.approved_by_username) == (RolloutStatus.PLANNED, "bob")
    assert worker.count == 1  # its first decision is queued
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVED]
    requested, approved = RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id")
    assert (requested.username, requested.reason, approved.username) == ("alice", "monthly patch", "bob")


def test_the_requester_is_recognised_by_name_after_their_account_is_made_again(cluster, people, worker,
                                                                                django_user_model):
    alice, _, _ = people
    rollout = request(cluster, alice)
    alice.delete()
    again = django_user_model.objects.create_user("alice", password="x", is_superuser=True)
    with pytest.raises(approval.ApprovalRefused, match="you requested it"):
        approval.approve(rollout, again)


def test_only_the_release_manager_role_may_approve(cluster, people, worker):
    alice, _, olga = people
    rollout = request(cluster, alice)
    with pytest.raises(approval.ApprovalRefused, match="only a user with the Release manager role"):
        approval.approve(rollout, olga)
    with pytest.raises(approval.ApprovalRefused, match="only a user with the Release manager role"):
        approval.reject(rollout, olga, "no")


def test_a_rejection_needs_a_reason_and_ends_the_rollout_freeing_the_cluster(cluster, people, worker):
    alice, bob, _ = people
    rollout = request(cluster, alice)
    with pytest.raises(approval.ApprovalRefused, match="A reason is required to reject"):
        approval.reject(rollout, bob, "   ")
    approval.reject(rollout, bob, "not during the sale")
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.CANCELLED
    assert rollout.status_reason == "rejected by bob: not during the sale"
    assert not rollout.steps.filter(status=StepStatus.PENDING).exists()
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.REJECTED]
    with pytest.raises(approval.ApprovalRefused, match="not awaiting approval"):
        approval.approve(rollout, bob)
    # The cluster is free: the next request is taken.
    assert request(cluster, alice, tag="1.0.2").status == RolloutStatus.AWAITING_APPROVAL


def test_the_reconciler_sweep_expires_an_unanswered_request(cluster, people, worker):
    alice, bob, _ = people
    rollout = request(cluster, alice)
    assert governance.sweep() == []  # not due yet
    Rollout.objects.filter(pk=rollout.pk).update(approval_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    lines = governance.sweep()
    rollout.refresh_from_db()
    assert lines == [f"{rollout}: {rollout.status_reason}"]
    assert rollout.status == RolloutStatus.CANCELLED and rollout.status_reason.startswith("approval expired")
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_EXPIRED]
    with pytest.raises(approval.ApprovalRefused, match="not awaiting approval"):
        approval.approve(rollout, bob)
    assert request(cluster, alice, tag="1.0.2").status == RolloutStatus.AWAITING_APPROVAL


def test_the_expiry_is_recorded_against_the_deadline_the_request_was_given(cluster, people, worker):
    # The cluster's expiry changed after the request: the record states the
    # rule the request was under (its deadline), not the cluster's new setting.
    alice, _, _ = people
    rollout = request(cluster, alice)
    Cluster.objects.filter(pk=cluster.pk).update(approval_expiry_minutes=600)
    deadline = timezone.now() - datetime.timedelta(seconds=1)
    Rollout.objects.filter(pk=rollout.pk).update(approval_expires_at=deadline)
    governance.sweep()
    expired = RolloutEvent.objects.get(rollout=rollout, kind=EventKind.APPROVAL_EXPIRED)
    assert f"{deadline:%Y-%m-%d %H:%M:%S} UTC" in expired.reason and "600" not in expired.reason


def test_an_approval_after_the_deadline_is_refused_and_ends_it(cluster, people, worker):
    alice, bob, _ = people
    rollout = request(cluster, alice)
    Rollout.objects.filter(pk=rollout.pk).update(approval_expires_at=timezone.now())
    with pytest.raises(approval.ApprovalRefused, match="approval expired"):
        approval.approve(rollout, bob)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.CANCELLED
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_EXPIRED]


def closed_window(cluster):
    """A one-hour window that opened 3 hours ago: closed now."""
    opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone.utc)
    return MaintenanceWindow.objects.create(cluster=cluster, weekday=opened.weekday(), start=opened.time(), minutes=60)


def test_approved_outside_a_window_it_waits_and_the_sweep_starts_it_when_the_window_opens(
        cluster, people, worker, django_capture_on_commit_callbacks):
    alice, bob, _ = people
    window = closed_window(cluster)
    rollout = request(cluster, alice)
    with django_capture_on_commit_callbacks(execute=True):
        said = approval.approve(rollout, bob)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.WAITING_FOR_WINDOW and "waits for its maintenance window" in said
    assert worker.count == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert governance.sweep() == []
    # The window made to open now (over midnight when the test runs late: it still counts).
    opened = (timezone.now() - datetime.timedelta(minutes=5)).astimezone(datetime.timezone.utc)
    MaintenanceWindow.objects.filter(pk=window.pk).update(weekday=opened.weekday(), start=opened.time(), minutes=60)
    with django_capture_on_commit_callbacks(execute=True):
        assert governance.sweep() == [f"{rollout}: its maintenance window opened; started"]
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.PLANNED and worker.count == 1
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVED, EventKind.WINDOW_WAITING,
                              EventKind.WINDOW_OPENED]


def test_a_waiting_rollout_starts_when_its_clusters_windows_are_removed_and_the_record_says_so(
        cluster, people, worker, django_capture_on_commit_callbacks):
    alice, _, _ = people
    Cluster.objects.filter(pk=cluster.pk).update(protected=False)
    cluster.refresh_from_db()
    closed_window(cluster)
    rollout = request(cluster, alice)
    assert rollout.status == RolloutStatus.WAITING_FOR_WINDOW
    MaintenanceWindow.objects.filter(cluster=cluster).delete()  # no window: no restriction
    with django_capture_on_commit_callbacks(execute=True):
        governance.sweep()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.PLANNED and worker.count == 1
    opened = RolloutEvent.objects.get(rollout=rollout, kind=EventKind.WINDOW_OPENED)
    assert opened.reason == "prod has no maintenance window any more"
    assert "None" not in rollout.decisions.splitlines()[-1]


def test_an_override_needs_a_reason_and_the_role_and_is_recorded(cluster, people, worker,
                                                                   django_capture_on_commit_callbacks):
    alice, _, olga = people
    Cluster.objects.filter(pk=cluster.pk).update(protected=False)
    cluster.refresh_from_db()
    closed_window(cluster)
    rollout = request(cluster, alice)
    assert rollout.status == RolloutStatus.WAITING_FOR_WINDOW
    with pytest.raises(windows.WindowRefused, match="A reason is required"):
        windows.override(rollout, alice, " ")
    with pytest.raises(windows.WindowRefused, match="Only a Release manager"):
        windows.override(rollout, olga, "hotfix")
    with django_capture_on_commit_callbacks(execute=True):
        windows.override(rollout, alice, "CVE hotfix, approved by the CAB")
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.PLANNED and worker.count == 1
    override = RolloutEvent.objects.get(rollout=rollout, kind=EventKind.WINDOW_OVERRIDE)
    assert (override.username, override.reason) == ("alice", "CVE hotfix, approved by the CAB")
    with pytest.raises(windows.WindowRefused, match="not waiting for a maintenance window"):
        windows.override(rollout, alice, "again")


def test_a_waiting_rollout_can_be_cancelled_at_once_and_the_history_says_by_whom(
        cluster, people, worker, django_capture_on_commit_callbacks):
    alice, bob, _ = people
    rollout = request(cluster, alice)
    with django_capture_on_commit_callbacks(execute=True):
        said = cancel.request(rollout, roll_back=False, user=bob)
    rollout.refresh_from_db()
    assert "cancelled before it started" in said and rollout.status == RolloutStatus.CANCELLED
    assert worker.count == 0 and not rollout.steps.filter(status=StepStatus.PENDING).exists()
    # An auditor reading the history sees the request end, who ended it and how.
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.CANCEL_REQUESTED]
    cancelled = RolloutEvent.objects.get(rollout=rollout, kind=EventKind.CANCEL_REQUESTED)
    assert cancelled.username == "bob" and "awaiting approval" in cancelled.reason
    with pytest.raises(approval.ApprovalRefused, match="not awaiting approval"):
        approval.approve(rollout, bob)


def test_a_cancel_of_a_running_rollout_is_recorded_with_who_and_the_choice(cluster, people, worker):
    alice, bob, _ = people
    Cluster.objects.filter(pk=cluster.pk).update(protected=False)
    cluster.refresh_from_db()
    rollout = request(cluster, alice)
    assert rollout.status == RolloutStatus.PLANNED
    cancel.request(rollout, roll_back=True, user=bob)
    cancelled = RolloutEvent.objects.get(rollout=rollout, kind=EventKind.CANCEL_REQUESTED)
    assert cancelled.username == "bob" and "stop and roll back" in cancelled.reason


def test_a_rejection_after_the_deadline_is_refused_and_recorded_as_an_expiry(cluster, people, worker):
    # Before the sweep runs, an expired request is decided by nobody: the
    # history must say it expired, not that it was rejected after its deadline.
    alice, bob, _ = people
    rollout = request(cluster, alice)
    Rollout.objects.filter(pk=rollout.pk).update(approval_expires_at=timezone.now())
    with pytest.raises(approval.ApprovalRefused, match="approval expired"):
        approval.reject(rollout, bob, "not during the sale")
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.CANCELLED and rollout.status_reason.startswith("approval expired")
    assert kinds(rollout) == [EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_EXPIRED]


def test_approval_needed_is_announced_when_the_request_is_made(cluster, people, worker):
    alice, _, _ = people
    Webhook.objects.create(cluster=cluster, url="http://127.0.0.1:9/hook", secret_env="HOOK_SECRET")
    rollout = request(cluster, alice)
    assert list(Delivery.objects.filter(rollout_id=rollout.pk).values_list("event", flat=True)) == [
        Event.APPROVAL_NEEDED]


def test_the_record_is_append_only(cluster, people, worker):
    alice, _, _ = people
    event = RolloutEvent.objects.get(rollout=request(cluster, alice))
    event.reason = "edited"
    with pytest.raises(RolloutEventAppendOnly):
        event.save()
    with pytest.raises(RolloutEventAppendOnly):
        event.delete()
    with pytest.raises(RolloutEventAppendOnly):
        RolloutEvent.objects.filter(pk=event.pk).update(reason="edited")
    from django.db import IntegrityError, connection, transaction
    for sql in ("UPDATE images_rolloutevent SET reason = 'edited'", "DELETE FROM images_rolloutevent"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert RolloutEvent.objects.get(pk=event.pk).reason == "monthly patch"


def test_one_cluster_the_sweep_cannot_read_holds_no_other_rollout_back(
        cluster, people, worker, django_capture_on_commit_callbacks):
    """A timezone made invalid outside the form (a shell, a restore) stops
    only that cluster's rollout, with the reason in the reconciler's lines."""
    alice, _, _ = people
    Cluster.objects.filter(pk=cluster.pk).update(protected=False)
    cluster.refresh_from_db()
    closed_window(cluster)
    stuck = request(cluster, alice)
    stage = Cluster.objects.create(name="stage", core_address="10.0.1.11", registry=REGISTRY)
    Node.objects.create(cluster=stage, address="10.0.1.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=stage, address="10.0.1.12", roles=["dea"], registry_config=PULLS,
                        desired_image=BASE, **TRUSTED)
    closed_window(stage)
    waiting = request(stage, alice)
    assert (stuck.status, waiting.status) == (RolloutStatus.WAITING_FOR_WINDOW,) * 2
    Cluster.objects.filter(pk=cluster.pk).update(windows_timezone="Mars/Olympus_Mons")
    MaintenanceWindow.objects.filter(cluster=stage).delete()  # stage may start now
    with django_capture_on_commit_callbacks(execute=True):
        lines = governance.sweep()
    stuck.refresh_from_db()
    waiting.refresh_from_db()
    assert waiting.status == RolloutStatus.PLANNED and stuck.status == RolloutStatus.WAITING_FOR_WINDOW
    assert f"{waiting}: its maintenance window opened; started" in lines
    assert any(line.startswith(f"{stuck}: its window could not be looked at: ") and "Mars/Olympus_Mons" in line
               for line in lines)
