"""The fleet the rollout command's tests share (the idle `worker`: support/job_runs.py)."""
import pytest

from nodes.models import Cluster, Node


@pytest.fixture
def fleet():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], host_key="AAAA", reachable=True)
    for n in range(2):
        Node.objects.create(cluster=cluster, address=f"10.0.0.{21 + n}", roles=["dea"], host_key="AAAA", reachable=True)
    return cluster

