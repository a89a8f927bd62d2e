"""Two-person approval and maintenance windows on the rollout sandbox (4
DEAs, 3.0: real sshd, kato, fence, dockerd, registry, Redis), driven
through the admin as two Release managers would, and the reconciler's own
pass (job_runs/reconciler.py) starting a rollout when its window opens.
No sleeps: each step waits on the rows' states."""
import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import Rollout, RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from job_runs import reconciler
from nodes.models import Cluster, FenceRestart, MaintenanceWindow
from sandbox import layout
from stackato_dash import queueing
from support.cluster_form import cluster_form
from support.image_versions import BASE, product_version
from support.rollout_driving import STRATEGY, config_image, deas, fence
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = importlib.import_module("nodes.migrations.0003_roles")


@pytest.fixture
def managers(django_user_model):
    """Two Release managers, each with their own browser session."""
    ROLES.create_roles(apps, None)
    group = Group.objects.get(name="Release manager")
    clients = []
    for name in ("rm-anna", "rm-ben"):
        user = django_user_model.objects.create_user(name, password="x", is_staff=True)
        user.groups.add(group)
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


def request_rollout(client, version) -> Rollout:
    """The admin's Roll out action, confirmed, by this client's user."""
    data = {"action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY}
    response = client.post(reverse("admin:images_imageversion_changelist"), data)
    assert response.status_code == 302, response.content[-3000:]
    return Rollout.objects.latest("created_at")


def decide(client, rollout, decision: str) -> str:
    response = client.post(reverse("admin:images_rollout_approval", args=[rollout.pk]), {"decision": decision},
                           follow=True)
    assert response.status_code == 200
    return response.content.decode()


def events(rollout) -> list[tuple[str, str]]:
    return list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("kind", "username"))


def test_a_protected_cluster_rolls_out_only_after_a_second_manager_approves(rollout_sandbox, rollout_fleet, managers,
                                                                            django_user_model):
    anna, ben = managers
    Cluster.objects.filter(pk=rollout_fleet.pk).update(protected=True)
    version = product_version(rollout_sandbox, rollout_fleet, "13.2.0")

    # Alone, anna cannot switch the rule off to roll out unseen: her untick of
    # Protected (she may edit clusters) only requests the lift (nodes/protection_lift.py).
    django_user_model.objects.get(username="rm-anna").groups.add(Group.objects.get(name="Operator"))
    response = anna.post(reverse("admin:nodes_cluster_change", args=[rollout_fleet.pk]),
                         cluster_form(Cluster.objects.get(pk=rollout_fleet.pk), protected=False))
    assert response.status_code == 302
    assert Cluster.objects.get(pk=rollout_fleet.pk).protected

    rollout = request_rollout(anna, version)
    assert rollout.status == RolloutStatus.AWAITING_APPROVAL, rollout.decisions
    run_queued_jobs()  # nothing was queued: nothing moves on the nodes
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_APPROVAL and not rollout.steps.exclude(status="pending").exists()
    assert config_image(rollout_sandbox) == BASE

    refused = decide(anna, rollout, "approve")  # the requester's own approval
    assert "you requested it; a second Release manager must approve it." in refused
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_APPROVAL

    assert "approved; it starts now." in decide(ben, rollout, "approve")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert config_image(rollout_sandbox) == version.registry_reference
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    audit = FenceRestart.objects.filter(correlation_id=rollout.pk)
    assert {row.node_address for row in audit} == {n["address"] for n in layout.deas(rollout_sandbox)}
    assert {row.requested_by_username for row in audit} == {"rm-anna"}  # the audit names the requester
    assert events(rollout) == [(EventKind.APPROVAL_REQUESTED, "rm-anna"), (EventKind.APPROVED, "rm-ben")]
    assert rollout.approved_by_username == "rm-ben"


def test_a_rollout_outside_its_window_waits_and_the_reconciler_starts_it_when_the_window_opens(
        admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "13.2.1")
    # A one-hour window that opened three hours ago: closed now.
    opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone.utc)
    window = MaintenanceWindow.objects.create(cluster=rollout_fleet, weekday=opened.weekday(), start=opened.time(),
                                              minutes=60)
    response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
    assert response.status_code == 302
    rollout = Rollout.objects.latest("created_at")
    assert rollout.status == RolloutStatus.WAITING_FOR_WINDOW, rollout.decisions

    queue = queueing.get_queue()
    assert not [line for line in reconciler.reconcile(queue) if str(rollout) in line]  # still closed
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.WAITING_FOR_WINDOW and config_image(rollout_sandbox) == BASE

    # The operator moves the window to now: the reconciler's next pass starts the rollout.
    now = timezone.now().astimezone(datetime.timezone.utc)
    MaintenanceWindow.objects.filter(pk=window.pk).update(weekday=now.weekday(), start=now.time(), minutes=60)
    assert f"{rollout}: its maintenance window opened; started" in reconciler.reconcile(queue)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert config_image(rollout_sandbox) == version.registry_reference
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    assert [kind for kind, _ in events(rollout)] == [EventKind.WINDOW_WAITING, EventKind.WINDOW_OPENED]
