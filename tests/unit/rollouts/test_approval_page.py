"""The rollout page's approval forms and history, and the auditors' page of
rollout events, as each user sees them (images/admin/rollout_governance.py,
rollout_event_admin.py). Real Redis with an idle registered worker; the
queued jobs are not run."""
import datetime
import html
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from images.models import RolloutEvent
from images.models.rollout import Rollout, RolloutStatus
from images.models.rollout_event import EventKind
from images.rollouts import start
from nodes.models import Cluster, MaintenanceWindow, Node
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db

ROLES = importlib.import_module("nodes.migrations.0003_roles")
TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}


@pytest.fixture
def users(django_user_model):
    ROLES.create_roles(apps, None)
    made = {}
    for name, role in (("alice", "Release manager"), ("bob", "Release manager"), ("vera", "Viewer")):
        made[name] = django_user_model.objects.create_user(name, password="x", is_staff=True)
        made[name].groups.add(Group.objects.get(name=role))
    return made


@pytest.fixture
def version(worker):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", protected=True)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=cluster, address="10.0.0.21", roles=["dea"], **TRUSTED)
    return draft_version(cluster, "2", status="built", image_id="sha256:" + "a" * 64, local=True,
                         engine_reference="exampleco/app:2")


@pytest.fixture
def rollout(users, version):
    return start.rollout_version(version, user=users["alice"], reason="monthly patch")


def test_the_plan_page_says_what_will_hold_the_rollout_and_starting_says_it_waits(client, users, version):
    opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone.utc)
    MaintenanceWindow.objects.create(cluster=version.cluster, weekday=opened.weekday(), start=opened.time(), minutes=60)
    action = {"action": "roll_out", "_selected_action": [version.pk]}
    text = post(client, users["alice"], reverse("admin:images_imageversion_changelist"), **action)
    note = text.split('id="plan-governance">', 1)[1].split("</p>", 1)[0]
    assert note.startswith("Prod is protected: once requested, the rollout waits for a second Release manager's "
                           "approval on its page (it expires after 240 minutes). It is outside prod's maintenance "
                           "windows (")
    assert not Rollout.objects.exists()  # the plan page changes nothing
    text = post(client, users["alice"], reverse("admin:images_imageversion_changelist"), **action, post="yes",
                reason="monthly patch", canaries="1", max_in_flight="1", failure_threshold="0", health_wait="5")
    assert "; awaiting approval: prod is protected; a second Release manager (not alice) must approve it" in text
    assert Rollout.objects.get().status == RolloutStatus.AWAITING_APPROVAL


def page(client, user, rollout) -> str:
    client.force_login(user)
    return html.unescape(client.get(reverse("admin:images_rollout_change", args=[rollout.pk])).content.decode())


def post(client, user, url, **data) -> str:
    client.force_login(user)
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_requester_sees_no_approve_button_and_is_refused_if_they_post_it(client, users, rollout):
    text = page(client, users["alice"], rollout)
    assert "Awaiting approval" in text and "Requested by <strong>alice</strong>" in text
    assert "You requested it: another Release manager must approve it." in text
    assert 'value="Approve"' not in text and 'value="Reject"' in text  # a requester may withdraw it
    text = post(client, users["alice"], reverse("admin:images_rollout_approval", args=[rollout.pk]), decision="approve")
    assert "you requested it; a second Release manager must approve it." in text
    assert Rollout.objects.get(pk=rollout.pk).status == RolloutStatus.AWAITING_APPROVAL


def test_a_second_manager_approves_and_the_history_shows_who(client, users, rollout, django_capture_on_commit_callbacks):
    text = page(client, users["bob"], rollout)
    assert 'value="Approve"' in text and 'value="Reject"' in text
    with django_capture_on_commit_callbacks(execute=True):
        text = post(client, users["bob"], reverse("admin:images_rollout_approval", args=[rollout.pk]),
                    decision="approve")
    assert "approved; it starts now." in text
    assert Rollout.objects.get(pk=rollout.pk).status == RolloutStatus.PLANNED
    history = text.split('id="rollout-events"', 1)[1].split("</table>", 1)[0]
    assert history.index("approval requested") < history.index("approved</td>")
    assert "<td>alice</td>" in history and "<td>bob</td>" in history


def test_reject_needs_a_reason_and_a_viewer_cannot_decide(client, users, rollout):
    url = reverse("admin:images_rollout_approval", args=[rollout.pk])
    text = page(client, users["vera"], rollout)
    assert 'value="Approve"' not in text and 'value="Reject"' not in text
    text = post(client, users["vera"], url, decision="reject", reason="no")
    assert "only a user with the Release manager role can approve or reject it" in text
    text = post(client, users["bob"], url, decision="reject", reason="")
    assert "A reason is required to reject" in text
    text = post(client, users["bob"], url, decision="reject", reason="freeze until Monday")
    assert "rejected; nothing was changed on prod." in text
    stored = Rollout.objects.get(pk=rollout.pk)
    assert (stored.status, stored.status_reason) == (RolloutStatus.CANCELLED, "rejected by bob: freeze until Monday")
    client.force_login(users["bob"])
    assert client.get(url).status_code == 405  # a GET changes nothing


def test_the_window_override_form_needs_a_reason(client, users, rollout, django_capture_on_commit_callbacks):
    opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone.utc)
    MaintenanceWindow.objects.create(cluster=rollout.cluster, weekday=opened.weekday(), start=opened.time(), minutes=60)
    post(client, users["bob"], reverse("admin:images_rollout_approval", args=[rollout.pk]), decision="approve")
    text = page(client, users["alice"], rollout)
    assert "Waiting for its maintenance window" in text and 'value="Start now (override window)"' in text
    url = reverse("admin:images_rollout_window_override", args=[rollout.pk])
    assert "A reason is required to start outside the maintenance window" in post(client, users["alice"], url, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        text = post(client, users["alice"], url, reason="hotfix for the outage")
    assert "started outside its maintenance window (override recorded)." in text
    assert "started outside its window (override)" in text and "hotfix for the outage" in text  # the history


def test_auditors_read_every_event_and_can_change_none(client, users, rollout):
    client.force_login(users["vera"])
    audit = client.get(reverse("admin:nodes_fencerestart_changelist")).content.decode()
    assert f'id="rollout-events" href="{reverse("admin:images_rolloutevent_changelist")}"' in audit  # linked from the audit
    changelist = reverse("admin:images_rolloutevent_changelist")
    text = html.unescape(client.get(changelist).content.decode())
    assert "approval requested" in text and "alice" in text and "prod" in text
    event = RolloutEvent.objects.get(rollout=rollout, kind=EventKind.APPROVAL_REQUESTED)
    assert client.post(reverse("admin:images_rolloutevent_change", args=[event.pk]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("admin:images_rolloutevent_add")).status_code == 403
    assert RolloutEvent.objects.get(pk=event.pk).reason == "monthly patch"
