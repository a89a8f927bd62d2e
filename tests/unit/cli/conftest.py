"""The fleet and the idle worker the rollout command's tests share."""
import pytest

from nodes.models import Cluster, Node
from support.rq import register_idle_worker


@pytest.fixture
def fleet():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], host_key="AAAA", reachable=True)
    for n in range(2):
        Node.objects.create(cluster=cluster, address=f"10.0.0.{21 + n}", roles=["dea"], host_key="AAAA", reachable=True)
    return cluster


@pytest.fixture
def worker(clean_queue):
    """A registered idle worker: commands that need one alive find it; nothing runs the jobs."""
    worker = register_idle_worker()
    yield worker
    worker.register_death()
