"""manage.py rollout pause|resume|gate and start --manual-gate: the rollout
page's buttons from a terminal, with the same refusals and the same record
(who and when) as on the page."""
import json

import pytest
from django.core.management.base import CommandError

from images.models import ImageVersion, Rollout
from images.models.rollout import RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from support.rollout_cli import BASE, a_rollout, refused, run, user_with

pytestmark = pytest.mark.django_db


def kinds(rollout):
    return list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("kind", "username"))


def test_pause_and_resume_are_recorded_with_the_user(fleet):
    user_with("activate_rollout")
    rollout = a_rollout(fleet)
    assert "paused; the 0 step(s) in flight finish" in run("pause", str(rollout.pk), "--user", "ops")
    assert "it is already paused" in refused("pause", str(rollout.pk), "--user", "ops")
    assert json.loads(run("resume", str(rollout.pk), "--user", "ops", "--json"))["status"] == "activating"
    rollout.refresh_from_db()
    assert not rollout.paused
    assert kinds(rollout) == [(EventKind.PAUSED, "ops"), (EventKind.RESUMED, "ops")]


def test_gate_continue_or_roll_back_only_at_the_gate(fleet):
    user_with("activate_rollout")
    user_with("view_rollout", name="viewer")
    at_gate = a_rollout(fleet, status=RolloutStatus.AWAITING_GATE, manual_gate=True)
    assert "viewer may not do this" in refused("gate", str(at_gate.pk), "--continue", "--user", "viewer")
    assert "continue chosen at the manual gate" in run("gate", str(at_gate.pk), "--continue", "--user", "ops")
    assert "continue was already chosen" in refused("gate", str(at_gate.pk), "--roll-back", "--user", "ops")
    assert kinds(at_gate) == [(EventKind.GATE_CONTINUED, "ops")]
    Rollout.objects.filter(pk=at_gate.pk).update(status=RolloutStatus.SUCCEEDED)
    other = a_rollout(fleet)
    assert "it is not waiting at a manual gate (activating)" in refused("gate", str(other.pk), "--roll-back",
                                                                        "--user", "ops")


def test_start_with_a_manual_gate(fleet, worker):
    user_with("activate_rollout")
    version = ImageVersion.objects.create(cluster=fleet, repository="exampleco/app", tag="2", from_reference=BASE,
                                          status="built", image_id="sha256:" + "a" * 64, local=True,
                                          engine_reference="exampleco/app:2")
    document = json.loads(run("start", str(version.pk), "--user", "ops", "--reason", "fix", "--manual-gate",
                              "--json"))
    assert Rollout.objects.get(pk=document["id"]).manual_gate


def test_status_says_a_rollout_is_paused(fleet):
    """A paused rollout keeps its status (activating): `rollout status`, and
    the JSON a pipeline reads, must still say that nothing starts."""
    user_with("activate_rollout")
    rollout = a_rollout(fleet)
    run("pause", str(rollout.pk), "--user", "ops")
    assert "activating, paused" in run("status", str(rollout.pk))
    document = json.loads(run("status", str(rollout.pk), "--json"))
    assert document["status"] == "activating" and document["paused"] is True
    run("resume", str(rollout.pk), "--user", "ops")
    assert json.loads(run("status", str(rollout.pk), "--json"))["paused"] is False
    assert "paused" not in run("status", str(rollout.pk))


def test_wait_at_a_manual_gate_exits_4_unless_asked_to_keep_waiting(fleet):
    """A pipeline is not held for an hour on a person's decision: as for an approval."""
    user_with("view_rollout")
    at_gate = a_rollout(fleet, status=RolloutStatus.AWAITING_GATE, manual_gate=True)
    with pytest.raises(CommandError) as error:
        run("wait", str(at_gate.pk), "--user", "ops", "--interval", "0")
    assert error.value.returncode == 4
    assert "is awaiting its manual gate after the canaries: a Release manager presses Continue or Roll back" in str(
        error.value)
    with pytest.raises(CommandError) as error:
        run("wait", str(at_gate.pk), "--user", "ops", "--keep-waiting", "--timeout", "0", "--interval", "0")
    assert error.value.returncode == 3
    document = json.loads(run("status", str(at_gate.pk), "--json"))
    assert document["waiting_for"].startswith("awaiting its manual gate")
