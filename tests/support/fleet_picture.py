"""What an operator checks after a fault, for the fault matrix
(docs/operations.md): how many times fence really started on each DEA
(the node's own fence log: the sandbox knows, the console does not), the
audit rows the console wrote for them, the rollout page's text, and the
console's per-node picture after a facts refresh beside what the nodes
report."""
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from nodes import jobs as node_jobs
from nodes.models import FenceRestart, Node
from nodes.models.fence_restart import Outcome
from nodes.models.node import Drift
from sandbox import layout
from sandbox.nodeside import fence_status
from support.rollout_driving import config_image

# fence.py's lines for a process that began: it ran, or failed its start.
_STARTED = re.compile(r"^fence\[(\d+)\]: (running with image|failing this start on purpose|cannot start)", re.M)


class FenceStarts:
    """Counts fence processes started on each DEA from now on."""

    def __init__(self, sandbox: dict):
        self.logs = {dea["address"]: Path(dea["dir"]) / "fence.log" for dea in layout.deas(sandbox)}
        self.offsets = {address: log.stat().st_size for address, log in self.logs.items()}

    def since(self) -> dict[str, int]:
        counts = {}
        for address, log in self.logs.items():
            with log.open("rb") as text:
                text.seek(self.offsets[address])
                counts[address] = len(set(_STARTED.findall(text.read().decode(errors="replace"))))
        return counts


def audited_restarts(addresses) -> dict[str, int]:
    """Audit rows per node that stand for a restart (all but "not restarted")."""
    rows = FenceRestart.objects.exclude(outcome=Outcome.NOT_RESTARTED)
    return {address: rows.filter(node_address=address).count() for address in addresses}


def rollout_page(admin_client, rollout) -> str:
    page = admin_client.get(reverse("admin:images_rollout_change", args=[rollout.pk]))
    assert page.status_code == 200, page.status_code
    return page.content.decode()


def _refreshed(address: str) -> Node:
    """The console's facts refresh of one node (what "Refresh facts" queues)."""
    try:
        node = Node.objects.get(address=address)
        node_jobs.refresh_node_facts(node.pk)
        node.refresh_from_db()
        return node
    finally:
        connection.close()  # this thread's own connection


def console_and_nodes(sandbox: dict, configured_image: str) -> tuple[dict, dict]:
    """({address: (fence state, pid, in sync?)} as the console shows it after
    a facts refresh, the same as the nodes report it). "In sync" on the node
    side: fence RUNNING on the image the cluster config names."""
    deas = layout.deas(sandbox)
    with ThreadPoolExecutor(max_workers=len(deas)) as pool:  # the nodes side by side, as the workers would
        refreshed = list(pool.map(_refreshed, [dea["address"] for dea in deas]))
    console = {node.address: (node.fence_state, node.fence_pid, node.drift == Drift.IN_SYNC) for node in refreshed}
    nodes = {}
    for dea in deas:
        fence = fence_status.read(sandbox, dea)
        nodes[dea["address"]] = (fence["state"], fence["pid"],
                                 fence["state"] == "RUNNING" and fence["image"] == configured_image)
    return console, nodes


_READONLY = re.compile(r'class="form-row[^"]*\bfield-(\w+)\b.*?<div class="readonly">(.*?)</div>', re.S)


def node_page(admin_client, node) -> dict[str, str]:
    """The node page's facts as an operator reads them: {field: text}."""
    page = admin_client.get(reverse("admin:nodes_node_change", args=[node.pk]))
    assert page.status_code == 200, page.status_code
    return {field: re.sub(r"<[^>]+>", "", text).strip() for field, text in _READONLY.findall(page.content.decode())}


def pages_and_nodes(admin_client, sandbox: dict) -> tuple[dict, dict]:
    """({address: (fence state, pid, desired image)} as each DEA's node page
    shows it now, with no refresh, the same as the nodes' supervisord and
    fence report it (the image fence runs)."""
    pages, nodes = {}, {}
    for dea in layout.deas(sandbox):
        shown = node_page(admin_client, Node.objects.get(address=dea["address"]))
        pages[dea["address"]] = (shown["fence_state"], shown["fence_pid"], shown["desired_image"])
        fence = fence_status.read(sandbox, dea)
        nodes[dea["address"]] = (fence["state"], str(fence["pid"]), fence["image"])
    return pages, nodes


def ended(admin_client, rollout, status: str, *phrases: str) -> str:
    """The rollout ended with `status`, its reason names each phrase, and its
    page shows that state and reason. Returns the reason."""
    rollout.refresh_from_db()
    assert rollout.status == status, (rollout.status_reason, rollout.decisions,
                                      list(rollout.steps.values_list("phase", "node__address", "status", "output")))
    for phrase in phrases:
        assert phrase in rollout.status_reason, rollout.status_reason
    page = rollout_page(admin_client, rollout)
    assert rollout.get_status_display() in page and escape(rollout.status_reason) in page, "not on the rollout page"
    return rollout.status_reason


def nothing_lost(sandbox: dict, starts: FenceStarts, expected: dict | None = None) -> dict:
    """One audit row per fence start on each DEA (none left open), and the
    console's picture equal to the nodes' (after a rollback that set the
    config back too: a DEA it never restarted is in sync). expected:
    {address: starts} where the test knows it (other DEAs: 0). Returns the
    starts."""
    started = starts.since()
    if expected is not None:
        assert started == {address: expected.get(address, 0) for address in started}, started
    assert audited_restarts(started) == started, list(FenceRestart.objects.values_list("node_address", "outcome"))
    assert not FenceRestart.objects.filter(finished_at__isnull=True).exists(), "a row is left 'outcome unknown'"
    console, nodes = console_and_nodes(sandbox, config_image(sandbox))
    assert console == nodes, {"console": console, "nodes": nodes,
                              "drift": list(Node.objects.values_list("address", "drift", "last_error"))}
    return started
