"""Cancel through the shared confirmation page: what each choice does, the
request recorded only on the confirming POST, and after "stop here" the
rollout page says which nodes run the target and which config the cluster
has. The engine runs for real on the rows; only the enqueue is stubbed."""
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStatus, RolloutStep
from images.rollouts import engine
from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db

TARGET, PREVIOUS = "reg:5000/app:2", "reg:5000/app:1"
CHANGELIST = "admin:images_rollout_changelist"


def make_rollout(config="succeeded", restarts=("succeeded", "pending", "pending"), status=RolloutStatus.ACTIVATING):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    core = Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"])
    rollout = Rollout.objects.create(cluster=cluster, target_image=TARGET, target_pull=TARGET, previous_image=PREVIOUS,
                                     requested_by_username="ops", reason="fix", status=status, max_in_flight="2")
    RolloutStep.objects.create(rollout=rollout, node=core, phase=Phase.CONFIG, image=TARGET, status=config,
                               attempt=int(config != "pending"))
    for number, state in enumerate(restarts):
        node = Node.objects.create(cluster=cluster, address=f"10.0.0.{21 + number}", roles=["dea"])
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.PULL, image=TARGET, status="succeeded")
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.RESTART, image=TARGET, status=state,
                                   batch=min(number, 1), attempt=int(state != "pending"))
        if state != "pending":  # the restart step wrote its audit row ahead of the restart
            FenceRestart.objects.create(node=node, cluster=cluster, node_address=node.address, image_after=TARGET,
                                        correlation_id=rollout.id, started_at=timezone.now(), reason="fix")
    return rollout


@pytest.fixture
def advances(monkeypatch):
    """enqueue_advance stubbed: the ids it was given; the test runs the engine itself."""
    sent = []
    monkeypatch.setattr("images.rollouts.cancel.enqueue_advance", sent.append)
    monkeypatch.setattr("images.rollouts.jobs.enqueue_step", lambda step: None)
    return sent


def ask(client, rollout, follow=False, **extra):
    return client.post(reverse(CHANGELIST), {"action": "cancel", "_selected_action": [rollout.pk], **extra},
                       follow=follow)


def test_before_the_config_changed_both_choices_end_the_same(admin_client, advances):
    rollout = make_rollout(config="pending", restarts=("pending",) * 3)
    page = ask(admin_client, rollout).content.decode()
    assert "The cluster config has not been changed and no fence was restarted" in page
    assert 'name="choice" value="stop" checked' in page and 'name="choice" value="rollback"' in page
    assert 'value="Yes, cancel"' in page
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested and advances == []


def test_after_the_config_changed_the_page_says_what_each_choice_does(admin_client, advances):
    rollout = make_rollout()
    page = ask(admin_client, rollout).content.decode()
    assert f"Stop here: the config names (or is being set to) {TARGET}; no further fence is restarted" in page
    assert f"Stop and roll back: the config is set back to {PREVIOUS}" in page
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested


def test_stop_here_ends_with_where_each_node_is_on_the_rollout_page(admin_client, advances,
                                                                    django_capture_on_commit_callbacks):
    rollout = make_rollout()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(admin_client, rollout, post="yes", choice="stop")
    assert response.status_code == 302
    assert advances == [rollout.pk]
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.CANCELLED and not rollout.cancel_rolls_back
    page = admin_client.get(reverse("admin:images_rollout_change", args=[rollout.pk])).content.decode()
    assert (f"the cluster config names {TARGET}; fence restarted onto it on 10.0.0.21; still running {PREVIOUS} "
            "until their fence restarts: 10.0.0.22, 10.0.0.23") in page
    assert "cancel requested: stop here" in page


def test_stop_and_roll_back_sets_the_config_back_first(admin_client, advances, django_capture_on_commit_callbacks):
    rollout = make_rollout()
    with django_capture_on_commit_callbacks(execute=True):
        ask(admin_client, rollout, post="yes", choice="rollback")
    rollout.refresh_from_db()
    assert rollout.cancel_requested and rollout.cancel_rolls_back
    page = admin_client.get(reverse("admin:images_rollout_progress", args=[rollout.pk])).content.decode()
    assert "Cancel requested (stop and roll back)" in page
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLING_BACK
    assert list(rollout.steps.filter(phase__in=[Phase.REVERT_CONFIG, Phase.REVERT]).values_list(
        "phase", "node__address", "status")) == [(Phase.REVERT_CONFIG, "10.0.0.11", "queued"),
                                                  (Phase.REVERT, "10.0.0.21", "pending")]


def test_a_rollback_in_progress_cannot_be_cancelled(admin_client, advances):
    rollout = make_rollout(status=RolloutStatus.ROLLING_BACK)
    page = ask(admin_client, rollout).content.decode()
    assert "it is rolling back, and a rollback always completes" in page
    assert 'value="Yes, cancel"' not in page and 'name="choice"' not in page
    response = ask(admin_client, rollout, post="yes", choice="stop", follow=True)
    assert "a rollback always completes" in response.content.decode()
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested and advances == []


def test_a_finished_rollout_says_so(admin_client, advances):
    rollout = make_rollout(status=RolloutStatus.SUCCEEDED)
    response = ask(admin_client, rollout, post="yes", choice="stop", follow=True)
    assert "it has already ended (succeeded): nothing to cancel" in response.content.decode()
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested


def test_a_viewer_cannot_cancel(client, django_user_model, advances):
    rollout = make_rollout()
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_rollout"))
    client.force_login(viewer)
    ask(client, rollout, post="yes", choice="stop")
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested and advances == []


def test_the_confirmed_cancel_returns_to_the_rollouts_page(admin_client, advances):
    """Pressed on the rollout's page (one rollout), the operator lands back on
    it to watch the cancel happen, as after Pause…; the demo walk landed on the list."""
    rollout = make_rollout()
    response = ask(admin_client, rollout, post="yes", choice="rollback")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:images_rollout_change", args=[rollout.pk])
