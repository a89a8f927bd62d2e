"""Rollouts against a 4-DEA sandbox with real sshd, kato, fence, dockerd,
registry and Redis, driven through the admin like an operator would."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

from images.models.rollout import Rollout, RolloutStatus
from images.rollouts import start
from nodes import jobs as node_jobs
from nodes.models import FenceRestart, Node
from sandbox import knobs, layout
from support import ssh
from support.image_versions import BASE, product_version
from support.fleet_picture import node_page, pages_and_nodes
from support.rollout_driving import STRATEGY, config_image, deas, fence, roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)

def test_confirmation_page_shows_the_plan_and_changes_nothing(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.0.1")
    page = admin_client.post(reverse("admin:images_imageversion_changelist"),
                             {"action": "roll_out", "_selected_action": [version.pk], "max_in_flight": "2"})
    text = page.content.decode()
    assert f"{BASE}</code> &rarr; <code>{version.registry_reference}" in text
    addresses = [n["address"] for n in layout.deas(rollout_sandbox)]
    assert "canaries:" in text and all(a in text for a in addresses)
    assert "Pulls needed (from the last refresh): 4 of 4" in text
    assert not Rollout.objects.exists()


# On PostgreSQL too (pytest.ini): the engine's row locks and the audit triggers in one full rollout.
@pytest.mark.postgresql
def test_a_full_rollout_switches_every_dea_with_one_audit_row_each(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.1.0")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert rollout.previous_image == BASE
    assert config_image(rollout_sandbox) == version.registry_reference
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    audit = FenceRestart.objects.filter(correlation_id=rollout.pk)
    assert audit.count() == 4 and {row.outcome for row in audit} == {"succeeded"}
    assert {row.node_address for row in audit} == {n["address"] for n in layout.deas(rollout_sandbox)}
    assert {(row.image_before, row.image_after, row.reason, row.requested_by_username) for row in audit} == {
        (BASE, version.registry_reference, STRATEGY["reason"], "admin")}
    assert rollout.steps.filter(phase="config").count() == 1  # the config was set exactly once
    # Verified on every node: the config read after its new fence was seen;
    # kato's ready asked where the change first ran (the canary).
    assert all(f"config names {version.registry_reference}" in row.output_excerpt for row in audit)
    canary = rollout.steps.get(phase="restart", batch=0).node.address
    for row in audit:
        said = "kato process ready fence: READY" if row.node_address == canary else "asked on the first batch"
        assert said in row.output_excerpt, row.output_excerpt
    shows_what_the_rollout_verified(admin_client, rollout_sandbox, rollout, version.registry_reference)


def shows_what_the_rollout_verified(admin_client, sandbox, rollout, image):
    """Right after the rollout, with no facts refresh: each DEA's node page
    shows the fence its supervisord runs now, on the image, in sync, and
    says the rollout verified it (not a refresh, which did not happen)."""
    pages, nodes = pages_and_nodes(admin_client, sandbox)
    assert pages == nodes and {shown[2] for shown in pages.values()} == {image}, {"pages": pages, "nodes": nodes}
    for node in rollout_fleet_deas(sandbox):
        shown = node_page(admin_client, node)
        assert shown["drift"] == "in sync", shown
        assert f"as verified by rollout {rollout.pk} at " in shown["facts_from"], shown["facts_from"]
        assert f"the rest refreshed {node.facts_refreshed_at:%Y-%m-%d %H:%M:%S} UTC" in shown["facts_from"]
    listed = re.sub(r"<[^>]+>", "", admin_client.get(reverse("admin:nodes_node_changelist")).content.decode())
    assert listed.count(f"as verified by rollout {rollout.pk} at ") == len(pages), "the node list"


def rollout_fleet_deas(sandbox):
    return [Node.objects.get(address=dea["address"]) for dea in layout.deas(sandbox)]


def test_a_failing_canary_is_rolled_back_automatically(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.2.0")
    canary = layout.deas(rollout_sandbox)[0]
    knobs.apply(Path(rollout_sandbox["state_dir"]), canary["name"], "fail-restarts", "1")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLED_BACK, rollout.decisions
    assert config_image(rollout_sandbox) == BASE
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", BASE)
    audit = list(FenceRestart.objects.filter(correlation_id=rollout.pk).order_by("started_at"))
    assert [(row.node_address, row.outcome, row.image_after) for row in audit] == [
        (canary["address"], "failed", version.registry_reference),
        (canary["address"], "succeeded", BASE),
    ]


def test_failures_within_the_threshold_go_on_and_past_it_stop(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.3.0")
    last = layout.deas(rollout_sandbox)[-1]
    knobs.apply(Path(rollout_sandbox["state_dir"]), last["name"], "fail-restarts", "1")
    rollout = roll_out(admin_client, version, failure_threshold="1", max_in_flight="1")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert "1 failed within the threshold" in rollout.status_reason

    version2 = product_version(rollout_sandbox, rollout_fleet, "1.3.1")
    second = layout.deas(rollout_sandbox)[1]
    knobs.apply(Path(rollout_sandbox["state_dir"]), second["name"], "fail-restarts", "1")
    rollout2 = roll_out(admin_client, version2, failure_threshold="0", max_in_flight="1", auto_rollback="")
    run_queued_jobs()
    rollout2.refresh_from_db()
    assert rollout2.status == RolloutStatus.FAILED, rollout2.decisions
    restarts = rollout2.steps.filter(phase="restart")
    # canary, then the failing node; the last two were never started
    assert sorted(restarts.values_list("status", flat=True)) == ["failed", "skipped", "skipped", "succeeded"]
    # The page counts the skipped restarts apart from the done one, shows the
    # skipped nodes on the image they kept, and offers Undo… (the config names the target).
    before = version.registry_reference  # what the first rollout activated
    assert rollout2.previous_image == before
    page = admin_client.get(reverse("admin:images_rollout_change", args=[rollout2.pk])).content.decode()
    assert "<td>1 / 4 done, 1 failed, 2 skipped</td>" in page
    for skipped in restarts.filter(status="skipped"):
        row = page.split(f"<code>{skipped.node.address}</code>", 1)[1].split("</tr>", 1)[0]
        assert f"<code>{before}</code> <span class=\"quiet\">(restart + verify skipped)</span>" in row, row
        assert version2.registry_reference not in row.split("<details>", 1)[0]
    assert f'value="Undo… (back to {before})"' in page


def test_a_failed_pull_leaves_the_config_and_every_fence_alone(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.4.0")
    before = {name: fence(rollout_sandbox, name) for name in deas(rollout_sandbox)}
    knobs.apply(Path(rollout_sandbox["state_dir"]), "registry", "down")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.FAILED
    assert rollout.status_reason.startswith("the pull failed on ") and "the cluster config was not changed" in \
        rollout.status_reason, rollout.status_reason
    assert config_image(rollout_sandbox) == BASE
    assert {name: fence(rollout_sandbox, name) for name in deas(rollout_sandbox)} == before
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk).exists()


def test_undo_restores_every_node(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.5.0")
    rollout = roll_out(admin_client, version, max_in_flight="50%")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    page = reverse("admin:images_rollout_change", args=[rollout.pk])
    assert f'value="Undo… (back to {BASE})"' in admin_client.get(page).content.decode()
    response = admin_client.post(reverse("admin:images_rollout_changelist"),
                                 {"action": "undo", "_selected_action": [rollout.pk], "post": "yes", **STRATEGY})
    assert response.status_code == 302
    undo = Rollout.objects.get(undoes=rollout)
    run_queued_jobs()
    undo.refresh_from_db()
    assert (undo.kind, undo.status) == ("rollback", RolloutStatus.SUCCEEDED), undo.decisions
    assert "Undo…" not in admin_client.get(page).content.decode()  # undone: nothing left to undo
    assert config_image(rollout_sandbox) == BASE
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", BASE)
    shows_what_the_rollout_verified(admin_client, rollout_sandbox, undo, BASE)  # the rollback's revert steps


def test_a_second_rollout_on_the_cluster_is_refused_while_one_runs(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.6.0")
    first = roll_out(admin_client, version)
    with pytest.raises(start.RolloutRefused, match="already has a rollout in progress"):
        start.rollout_version(version, user=first.requested_by, reason="again")
    response = admin_client.post(reverse("admin:images_imageversion_changelist"),
                                 {"action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY}, follow=True)
    assert b"already has a rollout in progress" in response.content
    assert Rollout.objects.count() == 1
    run_queued_jobs()


# On PostgreSQL too (pytest.ini): cancel takes the rollout's row lock against the running step.
@pytest.mark.postgresql
def test_cancel_stops_before_the_next_step_and_leaves_the_config(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.7.0")
    rollout = roll_out(admin_client, version, max_in_flight="1")
    page = admin_client.post(reverse("admin:images_rollout_changelist"),
                             {"action": "cancel", "_selected_action": [rollout.pk]})
    assert b"Yes, cancel" in page.content  # step one only shows what cancelling does
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested
    response = admin_client.post(reverse("admin:images_rollout_changelist"),
                                 {"action": "cancel", "_selected_action": [rollout.pk], "post": "yes"}, follow=True)
    assert b"cancel requested" in response.content
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.CANCELLED, rollout.decisions
    assert config_image(rollout_sandbox) == BASE
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk).exists()
    assert rollout.steps.filter(status="skipped").exists()


def test_a_registry_less_cluster_gets_the_image_streamed_to_each_node(admin_client, rollout_sandbox, rollout_fleet, settings):
    """The seed's small-cluster path: no registry, so each DEA is sent the
    image from the build engine (docker save | ssh docker load)."""
    settings.BUILD_DOCKER_HOST = layout.node(rollout_sandbox, "core")["docker_host"]
    rollout_fleet.registry = ""
    rollout_fleet.save(update_fields=["registry"])
    version = product_version(rollout_sandbox, rollout_fleet, "1.9.0")
    ref = version.engine_reference
    assert (version.status, version.local, ref) == ("built", True, "exampleco/newimg:1.9.0")
    rollout = roll_out(admin_client, version, max_in_flight="100%")
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    pulls = rollout.steps.filter(phase="pull")
    assert pulls.count() == 4 and all("streamed" in step.output for step in pulls), [s.output for s in pulls]
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", ref)


def test_distribute_only_pulls_everywhere_and_activates_nothing(admin_client, rollout_sandbox, rollout_fleet):
    version = product_version(rollout_sandbox, rollout_fleet, "1.8.0")
    response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "distribute_only", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
    assert response.status_code == 302
    rollout = Rollout.objects.get(distribute_only=True)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED and "not activated" in rollout.status_reason
    assert config_image(rollout_sandbox) == BASE
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk).exists()
    for entry in layout.deas(rollout_sandbox):
        code, out, err = ssh.run(entry, rollout_sandbox["client_key"],
                                 f"docker image inspect --format '{{{{json .RepoDigests}}}}' {version.registry_reference}")
        assert code == 0 and version.manifest_digest in out, err
        assert fence(rollout_sandbox, entry["name"]) == ("RUNNING", BASE)


def test_a_version_distributed_before_activates_while_the_registry_is_down(admin_client, rollout_sandbox,
                                                                           rollout_fleet):
    """A pull by digest asks the registry first; an engine that already holds
    the digest under the tag goes on when it cannot (distributed earlier)."""
    version = product_version(rollout_sandbox, rollout_fleet, "1.8.1")
    admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "distribute_only", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
    run_queued_jobs()
    distributed = Rollout.objects.get(distribute_only=True)
    assert distributed.status == RolloutStatus.SUCCEEDED, distributed.decisions
    assert all(step.output.startswith("pulled ") for step in distributed.steps.filter(phase="pull"))
    knobs.apply(Path(rollout_sandbox["state_dir"]), "registry", "down")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    pulls = rollout.steps.filter(phase="pull")
    assert pulls.count() == 4 and all("already present (docker pull failed" in step.output for step in pulls), \
        [step.output for step in pulls]
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)


def test_a_dea_left_out_is_named_to_the_end_and_its_fence_left_alone(admin_client, rollout_sandbox, rollout_fleet):
    """A disabled DEA: the plan leaves it out, and the finished rollout says
    so on its page and in its summary (it read "3 node(s) run …, 3/3 (100%)"
    with nothing of the fourth, whose fence will start on the new image at its
    next restart: the config is cluster-wide)."""
    version = product_version(rollout_sandbox, rollout_fleet, "1.9.0")
    last = layout.deas(rollout_sandbox)[-1]
    rollout_fleet.nodes.filter(address=last["address"]).update(enabled=False)
    before = fence(rollout_sandbox, last["name"])
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert rollout.left_out == f"{last['address']} (disabled)"
    assert f"3 node(s) run {version.registry_reference}; left out: {last['address']} (disabled): still on the image " \
           "before" in rollout.status_reason, rollout.status_reason
    assert f"distributing the image to every node taking part; left out: {last['address']} (disabled)" in \
        rollout.decisions
    page = admin_client.get(reverse("admin:images_rollout_change", args=[rollout.pk])).content.decode()
    assert f"left out: {last['address']} (disabled)" in page and "3 / 3 (100%)" in page
    assert fence(rollout_sandbox, last["name"]) == before  # not restarted
    assert not FenceRestart.objects.filter(correlation_id=rollout.pk, node_address=last["address"]).exists()
    assert config_image(rollout_sandbox) == version.registry_reference  # the config names it for every DEA
    left_out_row_follows_the_config(admin_client, rollout, Node.objects.get(address=last["address"]))


def left_out_row_follows_the_config(admin_client, rollout, node):
    """With no refresh, the left-out DEA's row no longer says "in sync" on
    the image before (images/rollouts/config_facts.py): it names the image
    the config names now, says the rollout set it, and its drift is what the
    next refresh, reading the node, finds too."""
    image = rollout.target_image
    shown = node_page(admin_client, node)
    assert shown["desired_image"] == image, shown
    assert shown["drift"] == "desired image missing on node", shown  # left out of the pull too
    refreshed = f"the rest refreshed {node.facts_refreshed_at:%Y-%m-%d %H:%M:%S} UTC"
    assert shown["facts_from"] == (f"desired image as the config set by rollout {rollout.pk} at "
                                   f"{node.desired_image_set_at:%Y-%m-%d %H:%M:%S} UTC; {refreshed}"), shown
    # The Core (no fence) too: the config is cluster-wide, the rollout restarts nothing there.
    core = node_page(admin_client, rollout.cluster.core_node)
    assert (core["desired_image"], core["drift"]) == (image, "in sync"), core
    assert core["facts_from"].startswith(f"desired image as the config set by rollout {rollout.pk} at "), core
    listed = re.sub(r"<[^>]+>", "", admin_client.get(reverse("admin:nodes_node_changelist")).content.decode())
    assert listed.count(f"desired image as the config set by rollout {rollout.pk} at ") == 2, "the node list"
    assert listed.count(f"as verified by rollout {rollout.pk} at ") == 3, "the node list"
    said = (node.desired_image, node.drift)
    node_jobs.refresh_node_facts(node.pk)
    node.refresh_from_db()
    assert (node.desired_image, node.drift) == said and node.desired_image_set_at is None
    assert node_page(admin_client, node)["facts_from"] == f"refreshed {node.facts_refreshed_at:%Y-%m-%d %H:%M:%S} UTC"
