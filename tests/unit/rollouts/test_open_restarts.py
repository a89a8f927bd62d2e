"""The reconciler's sweep of fence restart rows left open
(images/rollouts/open_restarts.py): one node that cannot be looked at does
not stop the others, and is not tried again on every pass. Nodes are
stubbed (the pool and supervisord); Redis is real. The sandbox test is
tests/integration/rollouts/test_audit_write_ahead.py."""
from datetime import timedelta

import pytest
from django.utils import timezone

from images.rollouts import open_restarts
from nodes import ssh
from nodes.models import Cluster, FenceRestart, Node
from nodes.models.fence_restart import Outcome
from nodes.supervisor import ProcessInfo, SupervisorError

pytestmark = pytest.mark.django_db

BAD, DOWN, GOOD = "10.0.0.21", "10.0.0.22", "10.0.0.23"


class Nodes:
    """supervisord per node address: BAD answers with a fault, DOWN cannot
    be reached, GOOD shows a fence started after the restart was sent."""

    def __init__(self):
        self.asked = []

    def get(self, endpoint):
        if endpoint.address == DOWN:
            raise ssh.Unreachable("connection refused", DOWN, 22)
        return endpoint.address

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FakeSupervisor:
    def __init__(self, nodes, address):
        self.nodes, self.address = nodes, address

    def process_info(self, name):
        self.nodes.asked.append(self.address)
        if self.address == BAD:
            raise SupervisorError(f"supervisord at {BAD}: getProcessInfo('fence',) failed: BAD_NAME")
        return ProcessInfo("fence", "RUNNING", 4242, timezone.now())


@pytest.fixture
def nodes(monkeypatch, clean_queue):
    fake = Nodes()
    monkeypatch.setattr(open_restarts.remote, "session_pool", lambda: fake)
    monkeypatch.setattr(open_restarts, "Supervisor", lambda address: FakeSupervisor(fake, address))
    yield fake
    for key in clean_queue.connection.scan_iter(open_restarts._LOOKED_KEY.format("*")):
        clean_queue.connection.delete(key)


def open_row(address) -> FenceRestart:
    cluster, _ = Cluster.objects.get_or_create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address=address, roles=["dea"])
    return FenceRestart.objects.create(node=node, cluster=cluster, node_address=address, requested_by_username="ops",
                                       image_before="reg:5000/app:1", image_after="reg:5000/app:2",
                                       started_at=timezone.now() - timedelta(minutes=1), outcome=Outcome.UNKNOWN)


def test_a_failing_node_does_not_stop_the_others_and_is_not_asked_every_pass(nodes, clean_queue):
    bad, down, good = open_row(BAD), open_row(DOWN), open_row(GOOD)

    report = open_restarts.look_at_open_restarts()

    # The one that answered is completed; the two that failed stay open and are named.
    good.refresh_from_db()
    assert (good.outcome, good.is_open) == (Outcome.SUCCEEDED, False)
    assert f"fence restart on {GOOD} at {good.started_at:%H:%M:%S}: succeeded" in report
    assert any(BAD in line and "BAD_NAME" in line and "still unknown" in line for line in report), report
    assert any(DOWN in line and "connection refused" in line and "still unknown" in line for line in report), report
    assert FenceRestart.objects.get(pk=bad.pk).is_open and FenceRestart.objects.get(pk=down.pk).is_open

    # The next pass (10 s later) leaves the failed nodes alone: no look, no line.
    nodes.asked.clear()
    assert open_restarts.look_at_open_restarts() == []
    assert nodes.asked == []

    # Once the wait is over (the marker expired), they are looked at again.
    clean_queue.connection.delete(open_restarts._looked_key(bad))
    report = open_restarts.look_at_open_restarts()
    assert nodes.asked == [BAD] and len(report) == 1 and BAD in report[0]
    assert 0 < clean_queue.connection.ttl(open_restarts._looked_key(bad)) <= open_restarts.LOOK_AGAIN_AFTER


def test_the_rows_of_a_node_that_failed_are_not_asked_twice_in_a_pass(nodes):
    first = open_row(BAD)
    second = FenceRestart.objects.create(node=first.node, cluster=first.cluster, node_address=BAD,
                                         requested_by_username="ops", image_before="reg:5000/app:2",
                                         image_after="reg:5000/app:3", started_at=timezone.now(),
                                         outcome=Outcome.UNKNOWN)
    report = open_restarts.look_at_open_restarts()
    assert nodes.asked == [BAD] and len(report) == 2, report
    assert FenceRestart.objects.get(pk=first.pk).is_open and FenceRestart.objects.get(pk=second.pk).is_open
