"""A 3.0.1 cluster: fence reloads on every DEA when the config changes. The
rollout smoke-tests the image first, then sees and audits each reload."""
from pathlib import Path

import pytest
from django.urls import reverse

from images.models.rollout import Rollout, RolloutStatus
from nodes import jobs
from sandbox import layout
from sandbox.register import register
from support.image_versions import product_version
from support.rollout_driving import STRATEGY, config_image, fence
from support.rq import run_queued_jobs
from support.sandbox import running_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def reload_sandbox():
    with running_sandbox("127.0.10.11", dea_count=2, kato_version="3.0.1") as cluster:
        yield cluster


def test_every_dea_switches_on_the_config_change_and_each_reload_is_audited(admin_client, reload_sandbox, settings, worker_alive):
    from nodes.models import FenceRestart
    settings.SSH_PRIVATE_KEY_PATH = Path(reload_sandbox["client_key"])
    cluster = register(Path(reload_sandbox["state_dir"]), "reloading")
    assert cluster.kato_behaviour == "3.0.1"
    for node in cluster.nodes.all():
        jobs.refresh_node_facts(node.pk)
    version = product_version(reload_sandbox, cluster, "3.0.0")
    page = admin_client.post(reverse("admin:images_imageversion_changelist"),
                             {"action": "roll_out", "_selected_action": [version.pk]})
    assert b"no canary is possible" in page.content
    admin_client.post(reverse("admin:images_imageversion_changelist"),
                      {"action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
    rollout = Rollout.objects.get()
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert rollout.steps.get(phase="smoke").status == "succeeded"
    assert config_image(reload_sandbox) == version.registry_reference
    for entry in layout.deas(reload_sandbox):
        assert fence(reload_sandbox, entry["name"]) == ("RUNNING", version.registry_reference)
    audit = FenceRestart.objects.filter(correlation_id=rollout.pk)
    assert sorted(audit.values_list("node_address", flat=True)) == [n["address"] for n in layout.deas(reload_sandbox)]
    assert all("reloaded on the config change" in row.output_excerpt for row in audit)
    # what "verified" is made of, each part seen on the node (README.md)
    for step in rollout.steps.filter(phase="observe"):
        assert f"config names {version.registry_reference}" in step.output
        assert rollout.target_pull.endswith("@" + version.manifest_digest)  # pinned by digest
        assert f"engine holds {rollout.target_pull}" in step.output
        # kato's ready is asked where the change first runs (config_read.py, steps._asks_ready)
        if step.batch == 0:
            assert "kato process ready fence: READY" in step.output
        else:
            assert "kato process ready: asked on the first batch" in step.output
        assert f"fence pid {step.fence_pid_before} -> " in step.output


def test_a_broken_image_fails_the_smoke_test_and_no_dea_reloads(admin_client, reload_sandbox, settings, worker_alive):
    from nodes.models import FenceRestart
    from sandbox.nodeside import fence_status
    settings.SSH_PRIVATE_KEY_PATH = Path(reload_sandbox["client_key"])
    cluster = register(Path(reload_sandbox["state_dir"]), "reloading")
    for node in cluster.nodes.all():
        jobs.refresh_node_facts(node.pk)
    configured = config_image(reload_sandbox)
    version = product_version(reload_sandbox, cluster, "3.0.9", cmd=["sh", "-c", "exit 1"])
    pids = {entry["name"]: fence_status.read(reload_sandbox, entry)["pid"] for entry in layout.deas(reload_sandbox)}
    admin_client.post(reverse("admin:images_imageversion_changelist"),
                      {"action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
    rollout = Rollout.objects.get()
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.FAILED, rollout.decisions
    smoke = rollout.steps.get(phase="smoke")  # one DEA: every DEA would reload at once
    assert smoke.status == "failed" and "exited with code 1" in smoke.output
    assert config_image(reload_sandbox) == configured
    assert {entry["name"]: fence_status.read(reload_sandbox, entry)["pid"] for entry in layout.deas(reload_sandbox)} == pids
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk).exists()


def test_a_reload_inside_the_running_fence_is_made_visible_by_a_restart(admin_client, reload_sandbox, settings,
                                                                         worker_alive):
    """A real 3.0.1 fence may take the change without a new process: no pid or
    start time moves, so nothing proves it. The step then restarts fence."""
    from nodes.models import FenceRestart
    from sandbox.nodeside import faults, fence_status
    settings.SSH_PRIVATE_KEY_PATH = Path(reload_sandbox["client_key"])
    cluster = register(Path(reload_sandbox["state_dir"]), "reloading")
    for node in cluster.nodes.all():
        jobs.refresh_node_facts(node.pk)
    version = product_version(reload_sandbox, cluster, "3.1.0")
    dea1, dea2 = layout.deas(reload_sandbox)
    before = fence_status.read(reload_sandbox, dea1)
    faults.write(dea1["dir"], reload_in_place=True)
    try:
        admin_client.post(reverse("admin:images_imageversion_changelist"),
                          {"action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
        rollout = Rollout.objects.get()
        run_queued_jobs()
    finally:
        faults.reset(dea1["dir"])
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    hidden = rollout.steps.get(phase="observe", node__address=dea1["address"])
    assert "no new fence process within 20 s of the config change" in hidden.output and "restarted it" in hidden.output
    assert "reloaded on the config change" in rollout.steps.get(phase="observe", node__address=dea2["address"]).output
    after = fence_status.read(reload_sandbox, dea1)
    assert after["pid"] != before["pid"] and after["image"] == version.registry_reference
    restart_row = FenceRestart.objects.get(correlation_id=rollout.pk, node_address=dea1["address"])
    assert "fence: stopped" in restart_row.output_excerpt and restart_row.outcome == "succeeded"
