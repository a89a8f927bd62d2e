"""The fleet view against the sandbox: import, trust, refresh and every drift
state, produced for real over SSH (sshd, kato, fence, dockerd)."""
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from nodes.models import Cluster, Node
from nodes.models.node import Drift
from sandbox import knobs, layout, sshd
from sandbox.nodeside import fence_status
from sandbox.register import register
from support import ssh
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "stackato/app-holophonor:3.0.0"
NEW = "exampleco/newimg:1.0.0"


def run_on(sandbox, name, command):
    code, out, err = ssh.run(layout.node(sandbox, name), sandbox["client_key"], command)
    assert code == 0, err
    return out


def node_named(sandbox, cluster, name) -> Node:
    return cluster.nodes.get(address=layout.node(sandbox, name)["address"])


def refresh_all(admin_client, cluster):
    response = admin_client.post(reverse("admin:nodes_cluster_changelist"),
                                 {"action": "refresh_facts", "_selected_action": [cluster.pk], "post": "yes"}, follow=True)
    assert b"job(s) queued" in response.content
    run_queued_jobs()


def test_import_finds_every_node_and_trust_pins_the_presented_key(admin_client, sandbox, settings, worker_alive):
    settings.SSH_PRIVATE_KEY_PATH = Path(sandbox["client_key"])
    core = layout.node(sandbox, "core")
    response = admin_client.post(reverse("admin:nodes_cluster_add"), {
        "name": "imported", "core_address": core["address"], "registry": "", "kato_behaviour": "3.0",
        "config_component": "fence", "config_key": "docker/image", "ssh_user": "root", "ssh_port": core["ssh_port"],
        # Governance (as the page sends them by default): approval expiry, windows' timezone, no window.
        "approval_expiry_minutes": "240", "windows_timezone": "UTC",
        "maintenance_windows-TOTAL_FORMS": "0", "maintenance_windows-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    cluster = Cluster.objects.get(name="imported")

    # Import through an untrusted Core node is refused, and says why.
    admin_client.post(reverse("admin:nodes_cluster_changelist"), {"action": "import_nodes", "_selected_action": [cluster.pk], "post": "yes"})
    run_queued_jobs()
    cluster.refresh_from_db()
    assert cluster.last_import_error == (
        f"Import through the Core node {core['address']} failed: {core['address']}:{core['ssh_port']}: host key not "
        f"trusted yet: the node presents ssh-ed25519 {sshd.fingerprint(core)}; trust it from the admin after checking it")
    assert cluster.nodes.count() == 1

    # Trust: the confirmation page shows what the node presents, like ssh's prompt.
    core_row = cluster.nodes.get()
    page = admin_client.post(reverse("admin:nodes_node_changelist"), {"action": "trust_host_key", "_selected_action": [core_row.pk]})
    assert sshd.fingerprint(core).encode() in page.content
    assert not Node.objects.get(pk=core_row.pk).is_trusted  # nothing pinned before confirmation
    token = re.search(rb'name="key_%d" value="([^"]+)"' % core_row.pk, page.content).group(1).decode()
    admin_client.post(reverse("admin:nodes_node_changelist"),
                      {"action": "trust_host_key", "_selected_action": [core_row.pk], "post": "yes", f"key_{core_row.pk}": token})
    assert Node.objects.get(pk=core_row.pk).host_key_fingerprint == sshd.fingerprint(core)

    admin_client.post(reverse("admin:nodes_cluster_changelist"), {"action": "import_nodes", "_selected_action": [cluster.pk], "post": "yes"})
    run_queued_jobs()
    found = {n.address: n.roles for n in cluster.nodes.all()}
    assert found == {n["address"]: n["roles"] for n in sandbox["nodes"]}
    # New nodes arrive untrusted: a refresh does not connect to them.
    assert {n.drift for n in cluster.nodes.exclude(pk=core_row.pk)} == {Drift.HOST_KEY_UNKNOWN}


def test_a_forged_trust_confirmation_pins_nothing(admin_client, fleet):
    node = fleet.nodes.first()
    pinned = node.host_key
    response = admin_client.post(reverse("admin:nodes_node_changelist"), {
        "action": "trust_host_key", "_selected_action": [node.pk], "post": "yes", f"key_{node.pk}": "ssh-ed25519 AAAAforged"}, follow=True)
    assert b"nothing was pinned" in response.content
    assert Node.objects.get(pk=node.pk).host_key == pinned


def test_refresh_fills_the_facts(admin_client, sandbox, fleet, worker_alive):
    refresh_all(admin_client, fleet)
    for entry in layout.deas(sandbox):
        node = node_named(sandbox, fleet, entry["name"])
        # the emulator's own view of its fence (supervisord's pid joined with fence.json)
        fence = fence_status.read(sandbox, entry)
        assert node.drift == Drift.IN_SYNC, node.last_error
        assert node.reachable and node.last_error == ""
        assert (node.fence_state, node.desired_image) == ("RUNNING", BASE)
        assert node.fence_pid == fence["pid"]
        started = datetime.fromisoformat(fence["started"].replace("Z", "+00:00"))
        assert abs(node.fence_started_at - started) <= timedelta(seconds=3)  # supervisord's clock, whole seconds
        assert BASE in node.image_refs
        assert node.docker_version == run_on(sandbox, entry["name"], "docker version --format '{{.Server.Version}}'").strip()
    assert node_named(sandbox, fleet, "core").drift == Drift.IN_SYNC


def test_every_drift_state_for_real(admin_client, sandbox, fleet, worker_alive):
    # The console has seen the cluster on BASE; then someone changes the config by hand:
    # dea1 and dea2 hold the new image, dea3 does not; the config names it.
    refresh_all(admin_client, fleet)
    for name in ("dea1", "dea2"):
        run_on(sandbox, name, f"docker tag {BASE} {NEW}")
    run_on(sandbox, "core", f"kato config set fence docker/image {NEW}")
    # dea2's next fence start fails: FATAL.
    knobs.apply(Path(sandbox["state_dir"]), "dea2", "fail-restarts", "1")
    ssh.run(layout.node(sandbox, "dea2"), sandbox["client_key"], "kato process restart fence")
    # The core is down.
    knobs.apply(Path(sandbox["state_dir"]), "core", "down")
    refresh_all(admin_client, fleet)
    drift = {n.address: n.drift for n in fleet.nodes.all()}
    assert drift == {
        layout.node(sandbox, "core")["address"]: Drift.UNREACHABLE,
        layout.node(sandbox, "dea1")["address"]: Drift.NOT_RESTARTED,
        layout.node(sandbox, "dea2")["address"]: Drift.FENCE_DOWN,
        layout.node(sandbox, "dea3")["address"]: Drift.IMAGE_MISSING,
    }
    changelist = admin_client.get(reverse("admin:nodes_node_changelist") + "?drift=not_restarted")
    assert layout.node(sandbox, "dea1")["address"].encode() in changelist.content
    assert layout.node(sandbox, "dea2")["address"].encode() not in changelist.content
    clusters = admin_client.get(reverse("admin:nodes_cluster_changelist"))
    assert b"1 unreachable" in clusters.content and b"1 config changed, fence not restarted" in clusters.content


def test_a_rotated_host_key_is_refused_and_recorded_with_both_fingerprints(admin_client, sandbox, fleet, worker_alive):
    dea2 = layout.node(sandbox, "dea2")
    pinned = sshd.fingerprint(dea2)
    refresh_all(admin_client, fleet)
    seen_before = node_named(sandbox, fleet, "dea2").last_seen
    knobs.apply(Path(sandbox["state_dir"]), "dea2", "rotate-host-key")
    refresh_all(admin_client, fleet)
    node = node_named(sandbox, fleet, "dea2")
    assert node.drift == Drift.HOST_KEY_CHANGED
    assert pinned in node.last_error and sshd.fingerprint(dea2) in node.last_error
    assert node.host_key_mismatch_fingerprint == sshd.fingerprint(dea2)
    assert node.last_seen == seen_before  # no session was opened
    # Re-pinned deliberately, it is back in line.
    register(Path(sandbox["state_dir"]), "sandbox")
    refresh_all(admin_client, fleet)
    assert node_named(sandbox, fleet, "dea2").drift == Drift.IN_SYNC


def test_a_down_node_is_unreachable_while_the_others_refresh(admin_client, sandbox, fleet, worker_alive):
    knobs.apply(Path(sandbox["state_dir"]), "dea1", "down")
    refresh_all(admin_client, fleet)
    down = node_named(sandbox, fleet, "dea1")
    assert down.drift == Drift.UNREACHABLE and down.reachable is False
    assert down.address in down.last_error
    others = fleet.nodes.exclude(pk=down.pk)
    assert {n.drift for n in others} == {Drift.IN_SYNC}


def test_refresh_without_a_worker_says_so_and_queues_nothing(admin_client, fleet):
    import django_rq
    queue = django_rq.get_queue("default")
    queue.empty()
    response = admin_client.post(reverse("admin:nodes_node_changelist"),
                                 {"action": "refresh_facts", "_selected_action": [fleet.nodes.first().pk], "post": "yes"},
                                 follow=True)
    assert b"No RQ worker is running" in response.content
    assert queue.count == 0
