"""The fence restart audit is written ahead, on the sandbox: a restart whose
worker or connection is lost after the restart command was sent has its row
(outcome unknown) all along, and the next look at the node completes it
with what the node shows: exactly one row per restart that happened."""
import threading
from pathlib import Path

import pytest
from django.urls import reverse

from images.models.rollout import Phase, Rollout, RolloutStatus, StepStatus
from job_runs import reconciler
from job_runs.models import JobRun
from nodes.models import FenceRestart, Node
from nodes.models.fence_restart import Outcome
from sandbox import knobs, layout
from sandbox.nodeside import fence_status
from stackato_dash import queueing
from support.image_versions import product_version
from support.rollout_driving import STRATEGY
from support.rq import run_queued_jobs
from support.ssh_drop import drop_connections
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

# Also run on PostgreSQL (pytest.ini): the audit row written ahead by one
# process and completed by another, under the audit triggers.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def _fence(sandbox, node):
    return fence_status.read(sandbox, node)


def _start_rollout(admin_client, version, **overrides) -> Rollout:
    response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY, **overrides})
    assert response.status_code == 302, response.content[-2000:]
    return Rollout.objects.get()


def _node_page(admin_client, address: str) -> str:
    node = Node.objects.get(address=address)
    page = admin_client.get(reverse("admin:nodes_node_change", args=[node.pk]))
    assert page.status_code == 200
    return page.content.decode().split('id="restart-history"', 1)[1].split("</table>", 1)[0]


def test_a_worker_killed_after_the_restart_before_the_audit_completes(admin_client, rollout_sandbox, rollout_fleet,
                                                                      worker_alive):
    version = product_version(rollout_sandbox, rollout_fleet, "4.1.0")
    canary = layout.deas(rollout_sandbox)[0]
    pid_at_start = _fence(rollout_sandbox, canary)["pid"]
    worker_alive.register_death()  # from here a real worker process carries the jobs
    worker = start_worker()
    try:
        wait_until_registered(worker)
        # A long health wait: the worker is verifying (row still open) when it is killed.
        rollout = _start_rollout(admin_client, version, health_wait="10")
        open_row = wait_until(lambda: FenceRestart.objects.filter(node_address=canary["address"],
                                                             finished_at__isnull=True).first(),
                         "the restart's row written ahead")
        # The restart happened on the node: a new fence on the target image.
        restarted = wait_until(lambda: (f := _fence(rollout_sandbox, canary))["state"] == "RUNNING"
                          and f["pid"] != pid_at_start and f["image"] == version.registry_reference and f,
                          "fence restarted on the target")
    finally:
        kill_worker(worker)
    row = FenceRestart.objects.get(pk=open_row.pk)
    assert row.is_open, "the worker completed the row before it was killed: the kill came too late"
    assert (row.requested_by_username, row.reason, row.image_after) == (
        "admin", STRATEGY["reason"], version.registry_reference)
    assert "outcome unknown" in _node_page(admin_client, canary["address"])

    # The recovery finds the step's job lost and queues it again; its retry
    # looks at the node, completes the row and restarts nothing.
    report = reconciler.reconcile(queueing.get_queue())
    assert any("restart on " + canary["address"] in line for line in report), (
        report, list(JobRun.objects.values_list("description", "status", "worker_name", "reason")))
    run_queued_jobs()
    step = rollout.steps.get(phase=Phase.RESTART, node__address=canary["address"])
    assert (step.status, step.attempt) == (StepStatus.SUCCEEDED, 2), step.output
    row = FenceRestart.objects.get(pk=open_row.pk)
    assert (row.outcome, row.is_open) == (Outcome.SUCCEEDED, False)
    assert "restart observed after its worker or connection was lost" in row.output_excerpt
    assert _fence(rollout_sandbox, canary)["pid"] == restarted["pid"], "the retry restarted fence a second time"
    assert "outcome unknown" not in _node_page(admin_client, canary["address"])
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    for dea in layout.deas(rollout_sandbox):
        rows = FenceRestart.objects.filter(correlation_id=rollout.pk, node_address=dea["address"])
        assert list(rows.values_list("outcome", flat=True)) == [Outcome.SUCCEEDED], dea["name"]
    assert not FenceRestart.objects.filter(finished_at__isnull=True).exists()


def test_the_connection_dropped_right_after_the_restart_command(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "4.2.0")
    canary = layout.deas(rollout_sandbox)[0]
    state_dir = Path(rollout_sandbox["state_dir"])
    knobs.apply(state_dir, canary["name"], "restart-delay", "5")  # fence is STOPPING for 5 s after the command
    pid_at_start = _fence(rollout_sandbox, canary)["pid"]
    seen = {}

    def cut_when_fence_stops():
        try:
            wait_until(lambda: _fence(rollout_sandbox, canary)["state"] == "STOPPING", "fence stopping", timeout=180)
            seen["open rows"] = FenceRestart.objects.filter(node_address=canary["address"],
                                                            finished_at__isnull=True).count()
            seen["connections"] = drop_connections(rollout_sandbox, canary)
        except BaseException as error:  # noqa: BLE001 - reported by the test thread below
            seen["error"] = error

    cutter = threading.Thread(target=cut_when_fence_stops)
    cutter.start()
    strategy = {key: value for key, value in STRATEGY.items() if key != "auto_rollback"}  # no rollback
    response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "roll_out", "_selected_action": [version.pk], "post": "yes", **strategy})
    assert response.status_code == 302, response.content[-2000:]
    rollout = Rollout.objects.get()
    run_queued_jobs()
    cutter.join()
    assert "error" not in seen, seen
    assert seen["open rows"] == 1 and seen["connections"] >= 1, seen

    step = rollout.steps.get(phase=Phase.RESTART, node__address=canary["address"])
    assert step.status == StepStatus.ERRORED, step.output
    row = FenceRestart.objects.get(node_address=canary["address"])
    assert row.is_open, row.outcome
    assert "outcome unknown" in _node_page(admin_client, canary["address"])
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.FAILED, rollout.decisions

    # The node answers again; the reconciler's pass looks at it and records what it shows.
    after = wait_until(lambda: (f := _fence(rollout_sandbox, canary))["state"] != "STOPPING" and f, "fence settled")
    knobs.apply(state_dir, canary["name"], "up")
    report = reconciler.reconcile(queueing.get_queue())
    row = FenceRestart.objects.get(node_address=canary["address"])
    # kato stopped fence, then found its connection gone and never started
    # it: the node shows no fence started since the row was written.
    assert (after["state"], after["pid"]) == ("STOPPED", None) and pid_at_start is not None
    assert (row.outcome, row.is_open) == (Outcome.NOT_RESTARTED, False), report
    assert "fence is STOPPED" in row.output_excerpt
    assert f"fence restart on {canary['address']} at {row.started_at:%H:%M:%S}: not_restarted" in report
    assert "not restarted" in _node_page(admin_client, canary["address"])
    assert FenceRestart.objects.filter(correlation_id=rollout.pk).count() == 1
