"""A worker killed (SIGKILL) in the middle of a rollout: after recovery the
rollout ends, and no completed fence restart lacks its audit row."""
import os
import signal
import time
from pathlib import Path

import pytest
from django.urls import reverse

from images.models.rollout import Rollout, RolloutStatus
from job_runs import reconciler
from job_runs.models import JobRun
from nodes.models import FenceRestart
from sandbox import knobs, layout
from stackato_dash import queueing
from support.image_versions import product_version
from support.rollout_driving import STRATEGY, fence
from support.rq import run_queued_jobs
from support.worker_process import start_worker, wait_until_registered

# Also run on PostgreSQL (pytest.ini): recovery takes the rollout's row lock
# (select_for_update) against a killed worker's.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def test_a_killed_worker_mid_rollout_is_recovered(admin_client, rollout_sandbox, rollout_fleet, settings, worker_alive):
    version = product_version(rollout_sandbox, rollout_fleet, "2.0.0")
    # The canary's restart takes a while: the worker is killed during it.
    canary = layout.deas(rollout_sandbox)[0]
    knobs.apply(Path(rollout_sandbox["state_dir"]), canary["name"], "restart-delay", "3")
    worker_alive.register_death()  # from here a real worker process carries the jobs
    worker, horse = start_worker(), None
    try:
        wait_until_registered(worker)
        deadline = time.monotonic() + 240  # only bounds a hang: four pulls come first, slow on a loaded machine
        response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
            "action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
        assert response.status_code == 302, response.content[-2000:]
        rollout = Rollout.objects.get()
        # The audit row is written ahead of the restart command: killed from
        # here, the restart was sent or is about to be.
        while not FenceRestart.objects.filter(correlation_id=rollout.pk, node_address=canary["address"]).exists():
            assert time.monotonic() < deadline, rollout.steps.values_list("phase", "status")
            time.sleep(0.2)
        step = rollout.steps.get(phase="restart", node__address=canary["address"])
        horse = JobRun.objects.get(rq_job_id=step.job_id).pid
    finally:
        # The worker and its work horse (RQ gives it a process group of its
        # own: alone it would go on with the step), as when the machine dies.
        os.killpg(worker.pid, signal.SIGKILL)
        if horse:
            os.killpg(horse, signal.SIGKILL)
        worker.wait()
    # SIGKILL is delivered, not yet done: the reconciler rightly leaves a horse that is still alive.
    gone = time.monotonic() + 30
    while horse and reconciler._pid_alive(horse):
        assert time.monotonic() < gone, f"work horse {horse} still alive after SIGKILL"
        time.sleep(0.1)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVATING  # left mid-flight by the kill
    assert rollout.steps.filter(status="running").exists()

    report = reconciler.reconcile(queueing.get_queue())
    assert len(report) == 1 and "restart" in report[0] and "lost: the worker running it" in report[0], report
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, (
        rollout.decisions, list(rollout.steps.filter(phase="restart").values_list("node__address", "status", "output")),
        list(FenceRestart.objects.values_list("node_address", "outcome", "output_excerpt")))
    assert "is gone; queued again (the step looks at the node first)" in rollout.decisions
    for entry in layout.deas(rollout_sandbox):
        assert fence(rollout_sandbox, entry["name"]) == ("RUNNING", version.registry_reference)
        # Exactly one: the canary's restart killed mid-flight is completed (or
        # found not sent and done again), never recorded twice.
        rows = FenceRestart.objects.filter(correlation_id=rollout.pk, node_address=entry["address"], outcome="succeeded")
        assert rows.count() == 1, (entry["name"], list(rows.values_list("outcome", "output_excerpt")))
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk, finished_at__isnull=True).exists()
