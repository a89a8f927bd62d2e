"""Pause, resume and the manual gate on the rollout sandbox (4 DEAs, 3.0),
pressed through the admin as an operator does. The pause lands by state,
not timing: the jobs are run one at a time (support.job_stepping) until the
second batch's two restarts are queued, and the pause is pressed there."""
import pytest
from django.core.management import call_command
from django.urls import reverse

from images.models.rollout import Phase, RolloutStatus, StepStatus
from images.models.rollout_event import EventKind, RolloutEvent
from nodes.models import FenceRestart
from sandbox import layout
from support.fleet_picture import FenceStarts
from support.image_versions import BASE, product_version
from support.job_stepping import run_jobs_until
from support.rollout_driving import config_image, deas, fence, roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "13.3.0"  # built and pushed once per session, for these three tests


@pytest.fixture
def version(rollout_sandbox, rollout_fleet):
    return product_version(rollout_sandbox, rollout_fleet, TAG)


def press(admin_client, rollout, action) -> str:
    """A button of the rollout's page, confirmed; the page it lands on."""
    response = admin_client.post(reverse("admin:images_rollout_changelist"), {
        "action": action, "_selected_action": [rollout.pk], "post": "yes"}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def events(rollout) -> list[tuple[str, str]]:
    return list(RolloutEvent.objects.filter(rollout=rollout).order_by("at", "id").values_list("kind", "username"))


def audit(rollout) -> list[tuple[str, str, str]]:
    return sorted(FenceRestart.objects.filter(correlation_id=rollout.pk).values_list(
        "node_address", "image_after", "outcome"))


def test_pause_lets_the_steps_in_flight_finish_and_resume_switches_the_rest(admin_client, rollout_sandbox, version):
    addresses = [dea["address"] for dea in layout.deas(rollout_sandbox)]
    starts = FenceStarts(rollout_sandbox)
    # Batches: the canary, then two at a time, then the last DEA.
    rollout = roll_out(admin_client, version, canaries="1", max_in_flight="2")
    restarts = rollout.steps.filter(phase=Phase.RESTART)
    run_jobs_until(lambda: restarts.filter(status=StepStatus.QUEUED).count() == 2, "the second batch queued")
    in_flight = set(restarts.filter(status=StepStatus.QUEUED).values_list("node__address", flat=True))
    assert in_flight == set(addresses[1:3])

    page = press(admin_client, rollout, "pause_rollouts")
    assert "paused; the 2 step(s) in flight finish" in page
    run_queued_jobs()  # the two restarts in flight run; nothing else is queued after them
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVATING and rollout.paused, rollout.decisions
    assert dict(restarts.values_list("node__address", "status")) == {
        addresses[0]: "succeeded", addresses[1]: "succeeded", addresses[2]: "succeeded", addresses[3]: "pending"}
    assert fence(rollout_sandbox, layout.deas(rollout_sandbox)[3]["name"]) == ("RUNNING", BASE)
    assert starts.since()[addresses[3]] == 0

    page = press(admin_client, rollout, "resume_rollouts")
    assert "resumed" in page
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    assert audit(rollout) == [(address, version.registry_reference, "succeeded") for address in addresses]
    assert starts.since() == {address: 1 for address in addresses}
    assert events(rollout) == [(EventKind.PAUSED, "admin"), (EventKind.RESUMED, "admin")]


def test_the_gate_after_the_canary_then_continue(admin_client, rollout_sandbox, version, capsys):
    addresses = [dea["address"] for dea in layout.deas(rollout_sandbox)]
    rollout = roll_out(admin_client, version, canaries="1", max_in_flight="2", manual_gate="on")
    run_queued_jobs()  # runs until the gate: nothing is queued while it waits
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_GATE, rollout.decisions
    assert config_image(rollout_sandbox) == version.registry_reference
    pictures = [fence(rollout_sandbox, name) for name in deas(rollout_sandbox)]
    assert pictures == [("RUNNING", version.registry_reference)] + [("RUNNING", BASE)] * 3
    assert audit(rollout) == [(addresses[0], version.registry_reference, "succeeded")]

    press(admin_client, rollout, "continue_at_gate")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    assert audit(rollout) == [(address, version.registry_reference, "succeeded") for address in addresses]
    assert events(rollout) == [(EventKind.GATE_WAITING, ""), (EventKind.GATE_CONTINUED, "admin")]
    # The engine's (in a job) and the console's events are hash-chained as written, in their own chain.
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "rollout events: chain holds: 2 rows, last chain #2" in out
    assert f"fence restarts: chain holds: {len(addresses)} rows" in out


def test_the_gate_after_the_canary_then_roll_back(admin_client, rollout_sandbox, version):
    canary = layout.deas(rollout_sandbox)[0]["address"]
    rollout = roll_out(admin_client, version, canaries="1", max_in_flight="2", manual_gate="on")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.AWAITING_GATE, rollout.decisions

    press(admin_client, rollout, "roll_back_at_gate")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLED_BACK, rollout.decisions
    assert rollout.status_reason == f"config and 1 node(s) back on {BASE}"
    assert config_image(rollout_sandbox) == BASE
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", BASE)
    assert audit(rollout) == sorted([(canary, version.registry_reference, "succeeded"), (canary, BASE, "succeeded")])
    assert events(rollout) == [(EventKind.GATE_WAITING, ""), (EventKind.GATE_ROLLED_BACK, "admin")]
