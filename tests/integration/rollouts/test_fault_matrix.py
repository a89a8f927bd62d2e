"""Issue 10's fault matrix on the rollout sandbox (4 DEAs, kato 3.0), one test
per row; docs/operations.md's table gives each row's outcome and names
these tests beside the rows other modules already cover. Every test checks
what an operator would: the rollout's terminal state and its message on
the rollout page, as many fence restart audit rows on each node as fence
really started there (the node's own log), no row left "outcome unknown",
and the console's per-node picture after a facts refresh equal to what the
nodes report. The jobs run in this process, one at a time where a fault
lands between two steps (support/job_stepping.py), so the rollout reaches
its end as soon as its last job ran, with no waiting."""
from pathlib import Path

import pytest
from django.urls import reverse

from images.models.rollout import Phase, RolloutStatus, StepStatus
from nodes import jobs as node_jobs
from nodes.models import FenceRestart, Node
from nodes.models.node import Drift
from sandbox import knobs, layout
from support import faults
from support.fleet_picture import audited_restarts, console_and_nodes, ended, nothing_lost
from support.image_versions import BASE
from support.job_stepping import run_jobs_until
from support.rollout_driving import cancel, config_image, roll_out
from support.rq import run_queued_jobs
from support.sandbox import wait_for_fence

pytestmark = pytest.mark.django_db(transaction=True)



def knob(sandbox, target, name, value=None):
    knobs.apply(Path(sandbox["state_dir"]), target, name, value)


def addresses(sandbox) -> list[str]:
    return [dea["address"] for dea in layout.deas(sandbox)]


# --- a node down, the SSH layer --------------------------------------------

def test_node_down_during_pull(admin_client, rollout_sandbox, version, starts):
    down = layout.deas(rollout_sandbox)[1]
    knob(rollout_sandbox, down["name"], "down")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.FAILED, f"the pull failed on {down['address']}",
          "the cluster config was not changed")
    pull = rollout.steps.get(phase=Phase.PULL, node__address=down["address"])
    assert pull.status == StepStatus.ERRORED and down["address"] in pull.output
    assert config_image(rollout_sandbox) == BASE
    knob(rollout_sandbox, down["name"], "up")  # the operator brings the node back, then refreshes
    nothing_lost(rollout_sandbox, starts, {})


def test_core_down_during_config_set(admin_client, rollout_sandbox, version, starts):
    knob(rollout_sandbox, "core", "down")  # the config is set through the Core node only
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.FAILED, "setting the cluster config failed", "not rolled back")
    assert rollout.steps.get(phase=Phase.CONFIG).status == StepStatus.ERRORED
    assert not rollout.steps.filter(phase=Phase.RESTART).exclude(status=StepStatus.SKIPPED).exists()
    knob(rollout_sandbox, "core", "up")
    assert config_image(rollout_sandbox) == BASE
    nothing_lost(rollout_sandbox, starts, {})


def test_node_down_before_its_restart(admin_client, rollout_sandbox, version, starts):
    canary, later = layout.deas(rollout_sandbox)[:2]
    rollout = roll_out(admin_client, version, max_in_flight="1")
    restarts = rollout.steps.filter(phase=Phase.RESTART)
    run_jobs_until(lambda: restarts.filter(node__address=canary["address"], status=StepStatus.SUCCEEDED).exists(),
                   "the canary switched")
    knob(rollout_sandbox, later["name"], "down")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.ROLLED_BACK, f"config and 1 node(s) back on {BASE}")
    assert restarts.get(node__address=later["address"]).status == StepStatus.ERRORED
    knob(rollout_sandbox, later["name"], "up")
    # The canary went to the target and back; the node that was down was never restarted.
    nothing_lost(rollout_sandbox, starts, {canary["address"]: 2})


def test_ssh_authentication_fails(admin_client, rollout_sandbox, version, starts, settings, tmp_path):
    settings.SSH_PRIVATE_KEY_PATH = faults.unauthorized_key(tmp_path)
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.FAILED, "the pull failed on", "the cluster config was not changed")
    # The first two pulls (max in flight 2) were queued together and both were
    # refused; the engine then skipped the two it had not queued yet.
    pulls = rollout.steps.filter(phase=Phase.PULL)
    statuses = sorted(pulls.values_list("status", flat=True))
    assert statuses == sorted([StepStatus.ERRORED] * 2 + [StepStatus.SKIPPED] * 2), list(pulls.values_list("status", "output"))
    for step in pulls.filter(status=StepStatus.ERRORED):
        assert "refused the configured SSH key" in step.output, step.output
        assert step.node.address in rollout.status_reason, rollout.status_reason
    settings.SSH_PRIVATE_KEY_PATH = Path(rollout_sandbox["client_key"])
    nothing_lost(rollout_sandbox, starts, {})


def test_a_host_key_changes_between_two_batches(admin_client, rollout_sandbox, version, starts):
    canary, later = layout.deas(rollout_sandbox)[:2]
    rollout = roll_out(admin_client, version, max_in_flight="1")
    restarts = rollout.steps.filter(phase=Phase.RESTART)
    run_jobs_until(lambda: restarts.filter(node__address=canary["address"], status=StepStatus.SUCCEEDED).exists(),
                   "the canary switched")
    knob(rollout_sandbox, later["name"], "rotate-host-key")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.ROLLED_BACK, f"config and 1 node(s) back on {BASE}")
    step = restarts.get(node__address=later["address"])
    assert step.status == StepStatus.ERRORED and "host key" in step.output.lower(), step.output
    # The node was never restarted (not restarted back either); every restart
    # that happened has its row, none left open.
    started = starts.since()
    assert started == {address: 2 if address == canary["address"] else 0 for address in addresses(rollout_sandbox)}
    assert audited_restarts(started) == started
    assert not FenceRestart.objects.filter(finished_at__isnull=True).exists(), "a row is left 'outcome unknown'"
    # After a facts refresh (what the operator does next), the console refuses
    # the node until the new key is trusted, and shows both fingerprints.
    node = Node.objects.get(address=later["address"])
    pinned = node.host_key_fingerprint
    node_jobs.refresh_node_facts(node.pk)
    node.refresh_from_db()
    assert node.drift == Drift.HOST_KEY_CHANGED, (node.drift, node.last_error)
    assert node.host_key_fingerprint == pinned and node.host_key_mismatch_fingerprint not in ("", pinned)
    page = admin_client.get(reverse("admin:nodes_node_change", args=[node.pk])).content.decode()
    assert pinned in page and node.host_key_mismatch_fingerprint in page


# --- fence itself ------------------------------------------------------------

def test_fence_hangs_on_restart(admin_client, rollout_sandbox, version, starts, settings):
    canary = layout.deas(rollout_sandbox)[0]
    rollout = roll_out(admin_client, version, auto_rollback="")
    run_jobs_until(lambda: rollout.steps.filter(phase=Phase.RESTART, status=StepStatus.QUEUED).exists(),
                   "the canary's restart queued")
    settings.SSH_COMMAND_TIMEOUT = 5  # the step's limit for one command: kato's restart waits on the hang
    knob(rollout_sandbox, canary["name"], "hang", "on")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.FAILED, f"the canary failed ({canary['address']})", "not rolled back")
    row = FenceRestart.objects.get(node_address=canary["address"])
    assert (row.outcome, row.is_open) == ("timed_out", False), row.output_excerpt
    # The operator clears the hang: fence finishes stopping, and nothing
    # starts it again (kato's restart went with its connection).
    knob(rollout_sandbox, canary["name"], "hang", "off")
    assert wait_for_fence(rollout_sandbox, canary, None, timeout=60, state="STOPPED"), "fence did not stop"
    assert starts.since() == {address: 0 for address in addresses(rollout_sandbox)}
    settings.SSH_COMMAND_TIMEOUT = 30
    console, nodes = console_and_nodes(rollout_sandbox, config_image(rollout_sandbox))
    assert console == nodes and console[canary["address"]][0] == "STOPPED", (console, nodes)


def test_fence_fails_on_every_node(admin_client, rollout_sandbox, version, starts):
    for dea in layout.deas(rollout_sandbox):
        knob(rollout_sandbox, dea["name"], "fail-restarts", "1")
    rollout = roll_out(admin_client, version, canaries="0", max_in_flight="100%")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.ROLLED_BACK, f"config and 4 node(s) back on {BASE}")
    assert "4 node(s) failed, more than the threshold of 0" in rollout.decisions
    assert config_image(rollout_sandbox) == BASE
    for address in addresses(rollout_sandbox):
        rows = FenceRestart.objects.filter(node_address=address).order_by("started_at")
        assert [(row.image_after, row.outcome) for row in rows] == [
            (version.registry_reference, "failed"), (BASE, "succeeded")], address
    nothing_lost(rollout_sandbox, starts, {address: 2 for address in addresses(rollout_sandbox)})


# --- kato's output -------------------------------------------------------------

@pytest.mark.parametrize("how", list(faults.KATO_MISBEHAVIOURS))
def test_kato_restart_misbehaves(admin_client, rollout_sandbox, version, starts, how):
    canary = layout.deas(rollout_sandbox)[0]
    rollout = roll_out(admin_client, version)
    restart = rollout.steps.filter(phase=Phase.RESTART, node__address=canary["address"])
    with faults.misbehaving_kato(rollout_sandbox, canary, "process restart", how):  # for the canary's restart
        run_jobs_until(lambda: restart.filter(status=StepStatus.FAILED).exists(), "the canary's restart failed")
    run_queued_jobs()
    # Nothing was restarted, so nothing is restarted back: only the config is set back.
    ended(admin_client, rollout, RolloutStatus.ROLLED_BACK, f"config and 0 node(s) back on {BASE}")
    assert f"the canary failed ({canary['address']}); rolling back" in rollout.decisions
    row = FenceRestart.objects.get(node_address=canary["address"])
    # kato said nothing useful and restarted nothing: the node shows the same
    # fence still running, so the row says "not restarted", with kato's words.
    assert row.outcome == "not_restarted" and "kato printed:" in row.output_excerpt, row.output_excerpt
    assert f"fence still runs as pid {row.node.fence_pid}" in row.output_excerpt  # the pid of the last refresh
    assert config_image(rollout_sandbox) == BASE
    nothing_lost(rollout_sandbox, starts, {})


@pytest.mark.parametrize("how", list(faults.KATO_MISBEHAVIOURS))
def test_kato_config_set_misbehaves(admin_client, rollout_sandbox, version, starts, how):
    core = layout.node(rollout_sandbox, "core")
    with faults.misbehaving_kato(rollout_sandbox, core, "config set", how):
        rollout = roll_out(admin_client, version)
        run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.ROLLED_BACK, f"config and 0 node(s) back on {BASE}")
    assert "setting the cluster config failed" in rollout.decisions
    assert config_image(rollout_sandbox) == BASE
    nothing_lost(rollout_sandbox, starts, {})


# --- cancel ----------------------------------------------------------------------

def test_cancel_while_the_config_is_set(admin_client, rollout_sandbox, version, starts):
    rollout = roll_out(admin_client, version)
    config = rollout.steps.filter(phase=Phase.CONFIG)
    run_jobs_until(lambda: config.filter(status=StepStatus.QUEUED).exists(), "the config step queued")
    cancel(admin_client, rollout, "stop")  # the config step is already queued: it runs
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.CANCELLED, f"the cluster config names {version.registry_reference}",
          "fence restarted onto it on no node", "until their fence restarts")
    assert config_image(rollout_sandbox) == version.registry_reference
    nothing_lost(rollout_sandbox, starts, {})