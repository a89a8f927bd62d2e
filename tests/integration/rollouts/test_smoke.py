"""A broken image is caught before it spreads: on a 3.0 cluster each canary
runs a container of the new image (its own CMD, no network) before the config
changes. One whose CMD exits at once, or that has no CMD, fails the canary and
nothing else changes. (3.0.1+: tests/integration/rollouts/test_reload_mode.py.)"""
import pytest

from images.models.rollout import RolloutStatus
from nodes.models import FenceRestart
from sandbox import layout
from sandbox.nodeside import fence_status
from support import ssh
from support.image_versions import BASE, hand_pushed_version, product_version
from support.rollout_driving import config_image, fence, roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def fences(sandbox):
    """pid and image of every DEA's fence, from inside the emulator."""
    return {entry["name"]: (fence_status.read(sandbox, entry)["pid"], fence(sandbox, entry["name"]))
            for entry in layout.deas(sandbox)}


def smoke_containers(sandbox):
    """Smoke containers left on any DEA (there must be none)."""
    left = []
    for entry in layout.deas(sandbox):
        code, out, err = ssh.run(entry, sandbox["client_key"],
                                 "docker ps -a --filter name=stackato-dash-smoke --format '{{.Names}}'")
        assert code == 0, err
        left += out.split()
    return left


@pytest.mark.parametrize("cmd, why", [
    (["sh", "-c", "echo cannot find my config >&2; exit 3"], "exited with code 3"),
    (None, "cannot start: docker: Error response from daemon: No command specified"),
], ids=["cmd-exits-at-once", "no-cmd"])
def test_a_broken_image_fails_the_canary_and_changes_nothing(admin_client, rollout_sandbox, rollout_fleet, cmd, why):
    # The console always writes a CMD: an image without one can only come from outside it.
    version = (product_version(rollout_sandbox, rollout_fleet, "9.0.1", cmd=cmd) if cmd
               else hand_pushed_version(rollout_sandbox, rollout_fleet, "9.0.2"))
    before = fences(rollout_sandbox)
    rollout = roll_out(admin_client, version, canaries="2")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.FAILED, rollout.decisions
    assert "the smoke test failed" in rollout.status_reason and "config was not changed" in rollout.status_reason
    smokes = rollout.steps.filter(phase="smoke").order_by("node__address")
    canaries = [entry["address"] for entry in layout.deas(rollout_sandbox)[:2]]
    assert [s.node.address for s in smokes] == canaries  # each canary, and only the canaries
    assert {s.status for s in smokes} == {"failed"}
    assert all(why in s.output for s in smokes), [s.output for s in smokes]
    if why.startswith("exited"):
        assert all("cannot find my config" in s.output for s in smokes)  # its own output, to debug it
    assert config_image(rollout_sandbox) == BASE
    assert fences(rollout_sandbox) == before  # no fence restarted: same pids, same image
    assert not rollout.steps.filter(phase__in=["config", "restart"]).exclude(status="skipped").exists()
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk).exists()
    assert smoke_containers(rollout_sandbox) == []


def test_a_healthy_image_passes_the_smoke_test_on_each_canary(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "9.1.0")
    rollout = roll_out(admin_client, version, canaries="2", max_in_flight="2")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    smokes = rollout.steps.filter(phase="smoke")
    assert smokes.count() == 2 and {s.status for s in smokes} == {"succeeded"}
    assert all("its own CMD, network none" in s.output for s in smokes)
    assert smoke_containers(rollout_sandbox) == []


def test_the_smoke_test_runs_while_the_other_nodes_pull(admin_client, rollout_sandbox, rollout_fleet):
    """Issue 11: the canary's pull goes first and its smoke test starts once
    that pull is done, before the last pull finished; the config is set only
    after every pull and the smoke test succeeded."""
    version = product_version(rollout_sandbox, rollout_fleet, "9.2.0")
    rollout = roll_out(admin_client, version, canaries="1", max_in_flight="2")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    canary = layout.deas(rollout_sandbox)[0]["address"]
    pulls = list(rollout.steps.filter(phase="pull").order_by("started_at"))
    smoke = rollout.steps.get(phase="smoke")
    config = rollout.steps.get(phase="config")
    assert (smoke.node.address, smoke.status) == (canary, "succeeded")
    assert pulls[0].node.address == canary  # the smoke node's pull is launched first
    assert smoke.started_at < max(pull.finished_at for pull in pulls)  # overlapped the distribution
    assert f"smoke test on {canary} while the others pull" in rollout.decisions
    assert config.started_at > max([smoke.finished_at] + [pull.finished_at for pull in pulls])
