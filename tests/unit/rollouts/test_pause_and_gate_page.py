"""Pause…, Resume…, Continue… and Roll back… on the rollout's page: each
through the shared confirmation page, acted on only by the confirming POST,
refused with the reason when it does not apply, offered only to users who
may activate rollouts, and recorded with who and when (RolloutEvent). The
engine runs for real on the rows; only the enqueues are stubbed."""
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStatus, RolloutStep
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import engine
from nodes.models import Cluster, FenceRestart, Node
from notifications.models import Delivery, Event, Webhook

pytestmark = pytest.mark.django_db

TARGET, PREVIOUS = "reg:5000/app:2", "reg:5000/app:1"
CHANGELIST = "admin:images_rollout_changelist"


def make_rollout(restarts=("succeeded", "pending", "pending"), status=RolloutStatus.ACTIVATING, **fields):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    core = Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"])
    rollout = Rollout.objects.create(cluster=cluster, target_image=TARGET, target_pull=TARGET, previous_image=PREVIOUS,
                                     requested_by_username="ops", reason="fix", status=status, max_in_flight="2",
                                     **fields)
    RolloutStep.objects.create(rollout=rollout, node=core, phase=Phase.CONFIG, image=TARGET, status="succeeded",
                               attempt=1)
    for number, state in enumerate(restarts):
        node = Node.objects.create(cluster=cluster, address=f"10.0.0.{21 + number}", roles=["dea"])
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.PULL, image=TARGET, status="succeeded")
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.RESTART, image=TARGET, status=state,
                                   batch=min(number, 1), attempt=int(state != "pending"))
        if state != "pending":
            FenceRestart.objects.create(node=node, cluster=cluster, node_address=node.address, image_after=TARGET,
                                        correlation_id=rollout.id, started_at=timezone.now(), reason="fix")
    return rollout


@pytest.fixture
def advances(monkeypatch):
    sent = []
    monkeypatch.setattr("images.rollouts.pause.enqueue_advance", sent.append)
    monkeypatch.setattr("images.rollouts.manual_gate.enqueue_advance", sent.append)
    monkeypatch.setattr("images.rollouts.jobs.enqueue_step", lambda step: None)
    return sent


def press(client, rollout, action, follow=False, **extra):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [rollout.pk], **extra},
                       follow=follow)


def page_of(client, rollout) -> str:
    return client.get(reverse("admin:images_rollout_change", args=[rollout.pk])).content.decode()


def events(rollout) -> list[tuple[str, str]]:
    return list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("kind", "username"))


def test_pause_confirms_then_holds_the_next_batch_and_resume_releases_it(admin_client, admin_user, advances,
                                                                        django_capture_on_commit_callbacks):
    rollout = make_rollout(restarts=("succeeded", "running", "pending"))
    assert 'value="Pause…"' in page_of(admin_client, rollout) and 'value="Resume…"' not in page_of(admin_client, rollout)
    confirm = press(admin_client, rollout, "pause_rollouts").content.decode()
    assert "1 step(s) in flight finish; then it waits for Resume." in confirm and 'value="Yes, pause"' in confirm
    assert not Rollout.objects.get(pk=rollout.pk).paused  # the first POST only shows what it would do

    response = press(admin_client, rollout, "pause_rollouts", post="yes")
    assert response.status_code == 302 and response.url == reverse("admin:images_rollout_change", args=[rollout.pk])
    page = page_of(admin_client, rollout)
    assert 'id="rollout-paused"' in page and 'value="Resume…"' in page and 'value="Pause…"' not in page
    # The running restart ends: the engine decides, and starts nothing.
    RolloutStep.objects.filter(rollout=rollout, node__address="10.0.0.22", phase=Phase.RESTART).update(status="succeeded")
    assert engine.advance(rollout.pk).queue == []
    assert RolloutStep.objects.get(rollout=rollout, node__address="10.0.0.23", phase=Phase.RESTART).status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        press(admin_client, rollout, "resume_rollouts", post="yes")
    assert advances == [rollout.pk] and not Rollout.objects.get(pk=rollout.pk).paused
    assert len(engine.advance(rollout.pk).queue) == 1
    assert events(rollout) == [(EventKind.PAUSED, admin_user.username), (EventKind.RESUMED, admin_user.username)]
    decisions = Rollout.objects.get(pk=rollout.pk).decisions
    assert f"paused by {admin_user.username}: 1 step(s) in flight finish" in decisions
    assert f"resumed by {admin_user.username}" in decisions


def test_pause_is_refused_with_the_reason(admin_client, advances):
    rolling_back = make_rollout(status=RolloutStatus.ROLLING_BACK)
    page = press(admin_client, rolling_back, "pause_rollouts").content.decode()
    assert "a rollback always completes" in page and 'value="Yes, pause"' not in page
    response = press(admin_client, rolling_back, "pause_rollouts", post="yes", follow=True)
    assert "a rollback always completes" in response.content.decode()
    assert not Rollout.objects.get(pk=rolling_back.pk).paused and events(rolling_back) == []
    response = press(admin_client, rolling_back, "resume_rollouts", post="yes", follow=True)
    assert "it is not paused" in response.content.decode() and advances == []


def test_cancel_still_ends_a_paused_rollout(admin_client, advances):
    rollout = make_rollout(paused=True)
    assert 'value="Cancel…"' in page_of(admin_client, rollout)
    Rollout.objects.filter(pk=rollout.pk).update(cancel_requested=True)
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.CANCELLED
    assert "fence restarted onto it on 10.0.0.21" in rollout.status_reason


def test_the_canaries_reach_the_gate_which_is_recorded_and_announced(admin_client):
    rollout = make_rollout(manual_gate=True)
    Webhook.objects.create(cluster=rollout.cluster, url="http://127.0.0.1:9/hook", secret_env="HOOK_SECRET")
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_GATE
    assert events(rollout) == [(EventKind.GATE_WAITING, "")]
    assert list(Delivery.objects.filter(rollout_id=rollout.pk).values_list("event", flat=True)) == [Event.GATE_WAITING]
    page = page_of(admin_client, rollout)
    assert 'id="rollout-gate"' in page and 'value="Continue…"' in page and 'value="Roll back…"' in page


def test_continue_at_the_gate(admin_client, admin_user, advances, django_capture_on_commit_callbacks):
    rollout = make_rollout(status=RolloutStatus.AWAITING_GATE, manual_gate=True)
    confirm = press(admin_client, rollout, "continue_at_gate").content.decode()
    assert "every other DEA&#x27;s fence is restarted onto" in confirm and 'value="Yes, continue"' in confirm
    with django_capture_on_commit_callbacks(execute=True):
        press(admin_client, rollout, "continue_at_gate", post="yes")
    assert advances == [rollout.pk]
    response = press(admin_client, rollout, "roll_back_at_gate", post="yes", follow=True)
    assert "continue was already chosen at its gate" in response.content.decode()
    assert len(engine.advance(rollout.pk).queue) == 2
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVATING
    assert events(rollout) == [(EventKind.GATE_CONTINUED, admin_user.username)]


def test_roll_back_at_the_gate(admin_client, admin_user, advances, django_capture_on_commit_callbacks):
    rollout = make_rollout(status=RolloutStatus.AWAITING_GATE, manual_gate=True)
    confirm = press(admin_client, rollout, "roll_back_at_gate").content.decode()
    assert f"The cluster config is set back to {PREVIOUS}" in confirm and 'value="Yes, roll back"' in confirm
    with django_capture_on_commit_callbacks(execute=True):
        press(admin_client, rollout, "roll_back_at_gate", post="yes")
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLING_BACK
    assert events(rollout) == [(EventKind.GATE_ROLLED_BACK, admin_user.username)]
    assert f"manual gate: roll back chosen by {admin_user.username}" in rollout.decisions


def test_the_gate_buttons_only_at_the_gate(admin_client, advances):
    rollout = make_rollout()
    page = page_of(admin_client, rollout)
    assert 'value="Continue…"' not in page and 'value="Roll back…"' not in page
    response = press(admin_client, rollout, "continue_at_gate", post="yes", follow=True)
    assert "it is not waiting at a manual gate (activating)" in response.content.decode() and advances == []


def test_a_viewer_sees_no_button_and_cannot_post(client, django_user_model, advances):
    rollout = make_rollout(status=RolloutStatus.AWAITING_GATE, manual_gate=True)
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_rollout"))
    client.force_login(viewer)
    page = page_of(client, rollout)
    assert 'value="Continue…"' not in page and 'value="Pause…"' not in page
    for action in ("pause_rollouts", "continue_at_gate", "roll_back_at_gate"):
        press(client, rollout, action, post="yes")
    rollout.refresh_from_db()
    assert not rollout.paused and not rollout.gate_decision and advances == [] and events(rollout) == []


def test_a_step_lost_while_paused_waits_for_resume(advances):
    """The reconciler's way for a lost step (jobs._step_lost: back to pending,
    then the rollout decides): while paused it is not started again, the
    rollout stays as it was (not errored, not stuck in a job), and Resume
    starts it."""
    from images.rollouts import jobs
    rollout = make_rollout(restarts=("succeeded", "running", "pending"), paused=True)
    lost = RolloutStep.objects.get(rollout=rollout, node__address="10.0.0.22", phase=Phase.RESTART)
    jobs._step_lost(lost.pk, "its worker died")
    lost.refresh_from_db()
    rollout.refresh_from_db()
    assert lost.status == "pending" and rollout.status == RolloutStatus.ACTIVATING and rollout.paused
    Rollout.objects.filter(pk=rollout.pk).update(paused=False)
    queued = RolloutStep.objects.filter(pk__in=engine.advance(rollout.pk).queue)
    assert set(queued.values_list("node__address", flat=True)) == {"10.0.0.22", "10.0.0.23"}


@pytest.mark.parametrize("waiting", [RolloutStatus.AWAITING_APPROVAL, RolloutStatus.WAITING_FOR_WINDOW])
def test_pause_is_refused_before_the_rollout_started(admin_client, advances, waiting):
    """Nothing runs yet to pause; a pause set now would hold the rollout the
    moment approval or its window starts it (or let a Resume start it later,
    outside its window). Cancel is the way to stop it."""
    rollout = make_rollout(restarts=("pending", "pending", "pending"), status=waiting)
    assert 'value="Pause…"' not in page_of(admin_client, rollout)
    response = press(admin_client, rollout, "pause_rollouts", post="yes", follow=True)
    assert "it has not started yet" in response.content.decode() and "Cancel ends it" in response.content.decode()
    rollout.refresh_from_db()
    assert not rollout.paused and events(rollout) == [] and advances == []


def test_continue_on_a_paused_rollout_says_the_batches_wait_for_resume(admin_client, advances,
                                                                      django_capture_on_commit_callbacks):
    """The gate reached while paused: Continue is recorded, but the pause
    still holds the other DEAs, and the operator is told so (not that
    they start)."""
    rollout = make_rollout(status=RolloutStatus.AWAITING_GATE, manual_gate=True, paused=True)
    confirm = press(admin_client, rollout, "continue_at_gate").content.decode()
    assert "It is paused: they start when it is resumed." in confirm
    with django_capture_on_commit_callbacks(execute=True):
        page = press(admin_client, rollout, "continue_at_gate", post="yes", follow=True).content.decode()
    assert "continue chosen at the manual gate; it is paused: the other DEAs start when it is resumed." in page
    assert engine.advance(rollout.pk).queue == []
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVATING and rollout.paused
    assert 'value="Resume…"' in page_of(admin_client, rollout)


def test_a_paused_rollout_that_rolls_back_is_no_longer_shown_paused(admin_client, advances):
    """A failure past the threshold while paused rolls back, and a rollback
    is never held: the page must not say 'no further step starts until it is
    resumed' (nor offer Resume) while the revert restarts run."""
    rollout = make_rollout(restarts=("succeeded", "failed", "pending"), paused=True)
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLING_BACK and not rollout.paused
    assert "the pause no longer holds" in rollout.decisions
    page = page_of(admin_client, rollout)
    assert 'id="rollout-paused"' not in page and 'value="Resume…"' not in page
    assert events(rollout) == []  # the pause and its end are in the decisions; no Resume was pressed


def test_resume_at_the_gate_says_it_still_waits_there(admin_client, advances, django_capture_on_commit_callbacks):
    rollout = make_rollout(status=RolloutStatus.AWAITING_GATE, manual_gate=True, paused=True)
    with django_capture_on_commit_callbacks(execute=True):
        page = press(admin_client, rollout, "resume_rollouts", post="yes", follow=True).content.decode()
    assert "resumed; it still waits at its manual gate for Continue or Roll back." in page
    assert engine.advance(rollout.pk).queue == []
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_GATE and not rollout.paused
