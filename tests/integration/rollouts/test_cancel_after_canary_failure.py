"""Issue 10 Found 1 on the sandbox: canaries 2, max in flight 2, the first
canary's restart fails while the second is still restarting, the operator
cancels ("stop here"). The rollout must still end (no rollout stuck in
"rolling back"): the config back on the previous image, every fence on it,
and one audit row per restart that happened. Two real rqworker processes
carry the jobs, so both canaries restart at once."""
import os
import signal
from pathlib import Path

import pytest
from django.urls import reverse

from images.models.rollout import Phase, Rollout, RolloutStatus, StepStatus
from nodes.models import FenceRestart
from sandbox import knobs, layout
from support.image_versions import BASE, product_version
from support.rollout_driving import STRATEGY, config_image, fence
from support.waiting import wait_until
from support.worker_process import start_worker, wait_until_registered

pytestmark = pytest.mark.django_db(transaction=True)


def test_cancel_after_a_failed_canary_ends_rolled_back(admin_client, rollout_sandbox, rollout_fleet, worker_alive):
    version = product_version(rollout_sandbox, rollout_fleet, "10.1.0")
    first, second = layout.deas(rollout_sandbox)[:2]
    state = Path(rollout_sandbox["state_dir"])
    knobs.apply(state, first["name"], "fail-restarts", "1")
    knobs.apply(state, second["name"], "restart-delay", "10")
    worker_alive.register_death()  # from here two real worker processes carry the jobs
    workers = [start_worker(), start_worker()]
    try:
        wait_until_registered(*workers)
        response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
            "action": "roll_out", "_selected_action": [version.pk], "post": "yes",
            **STRATEGY, "canaries": "2", "max_in_flight": "2"})
        assert response.status_code == 302, response.content[-2000:]
        rollout = Rollout.objects.get()
        restarts = rollout.steps.filter(phase=Phase.RESTART)
        wait_until(lambda: restarts.filter(
            node__address=first["address"], status=StepStatus.FAILED).exists(), "the first canary failed", timeout=180)
        assert restarts.get(node__address=second["address"]).status == StepStatus.RUNNING  # still restarting
        response = admin_client.post(reverse("admin:images_rollout_changelist"), {
            "action": "cancel", "_selected_action": [rollout.pk], "post": "yes", "choice": "stop"}, follow=True)
        assert "cancel requested (stop here)" in response.content.decode()
        wait_until(lambda: Rollout.objects.get(pk=rollout.pk).is_finished, "the rollout ended", timeout=240)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLED_BACK, rollout.decisions
    assert rollout.status_reason == f"config and 2 node(s) back on {BASE}"
    assert config_image(rollout_sandbox) == BASE
    for entry in layout.deas(rollout_sandbox):
        assert fence(rollout_sandbox, entry["name"]) == ("RUNNING", BASE), entry["name"]
    # The two canaries were restarted onto the target, then back: one row each time, nothing for the others.
    audit = FenceRestart.objects.filter(correlation_id=rollout.pk)
    assert sorted(audit.values_list("node_address", "image_after", "outcome")) == sorted([
        (first["address"], version.registry_reference, "failed"),
        (first["address"], BASE, "succeeded"),
        (second["address"], version.registry_reference, "succeeded"),
        (second["address"], BASE, "succeeded"),
    ])
