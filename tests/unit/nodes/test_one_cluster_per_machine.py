"""A machine (its address) belongs to one cluster (nodes/machine_claims.py):
the cluster and node pages of a logged-in Operator refuse a second cluster's
claim, naming the cluster that holds it, and an import from `kato node list`
reports a listed node another cluster holds instead of importing it."""

import pytest
from django.urls import reverse

from nodes import importer, jobs
from nodes.models import Cluster, Node
from nodes.ssh import CommandResult
from support.cluster_form import cluster_form

pytestmark = pytest.mark.django_db

HELD = "is already a node of cluster demo: a machine belongs to one cluster"


@pytest.fixture
def demo():
    """The demo cluster as it is after an import: its Core and two DEAs."""
    cluster = Cluster.objects.create(name="demo", core_address="127.0.0.11")
    for address, roles in [("127.0.0.11", ["primary", "controller", "router"]), ("127.0.0.12", ["dea"]),
                           ("127.0.0.13", ["dea"])]:
        Node.objects.create(cluster=cluster, address=address, ssh_port=2222, roles=roles)
    return cluster


def add_cluster(client, name, core_address):
    return client.post(reverse("admin:nodes_cluster_add"),
                       cluster_form(Cluster(name=name, core_address=core_address), protected=False))


def test_no_new_cluster_on_another_clusters_core_or_node(operator, demo):
    for address in ["127.0.0.11", "127.0.0.12"]:
        response = add_cluster(operator, "x", address)
        assert response.status_code == 200
        assert f"{address} {HELD}" in response.content.decode()
    assert list(Cluster.objects.values_list("name", flat=True)) == ["demo"]
    assert Node.objects.count() == 3
    # A machine no cluster holds is fine, and its Core node row is made.
    assert add_cluster(operator, "x", "127.0.0.21").status_code == 302
    assert Node.objects.get(address="127.0.0.21").cluster.name == "x"


def test_no_cluster_moved_onto_another_clusters_machine(operator, demo):
    other = Cluster.objects.create(name="staging", core_address="127.0.0.21")
    response = operator.post(reverse("admin:nodes_cluster_change", args=[other.pk]),
                             cluster_form(other, protected=False, core_address="127.0.0.13"))
    assert f"127.0.0.13 {HELD}" in response.content.decode()
    assert Cluster.objects.get(pk=other.pk).core_address == "127.0.0.21"
    # Saving the cluster's own Core address again is not a claim on someone else's machine.
    demo_again = operator.post(reverse("admin:nodes_cluster_change", args=[demo.pk]), cluster_form(demo, protected=False))
    assert demo_again.status_code == 302


def node_form(cluster, address, **fields):
    return {"cluster": cluster.pk, "address": address, "ssh_port": "2222", "ssh_user": "root", "roles": ["dea"],
            "enabled": "on", **fields}


def test_no_node_added_that_another_cluster_holds(operator, demo):
    other = Cluster.objects.create(name="staging", core_address="127.0.0.21")
    # Another SSH port is still the same machine: Stackato names a node by its address.
    for address, port in [("127.0.0.12", "2222"), ("127.0.0.12", "22"), ("127.0.0.11", "2222")]:
        response = operator.post(reverse("admin:nodes_node_add"), node_form(other, address, ssh_port=port))
        assert response.status_code == 200
        assert f"{address} {HELD}" in response.content.decode()
    # Nor another cluster's Core address before its Core node row exists.
    bare = Cluster.objects.create(name="bare", core_address="127.0.0.31")
    response = operator.post(reverse("admin:nodes_node_add"), node_form(other, "127.0.0.31"))
    assert "127.0.0.31 is already a node of cluster bare" in response.content.decode()
    assert not other.nodes.exists() and not bare.nodes.exists()
    assert operator.post(reverse("admin:nodes_node_add"), node_form(other, "127.0.0.22")).status_code == 302


def test_a_node_is_moved_only_where_no_other_cluster_holds_it(operator, demo):
    other = Cluster.objects.create(name="staging", core_address="127.0.0.21")
    dea = demo.nodes.get(address="127.0.0.13")
    # Moving a DEA (not demo's Core) to staging leaves it in one cluster: allowed.
    response = operator.post(reverse("admin:nodes_node_change", args=[dea.pk]), node_form(other, "127.0.0.13"))
    assert response.status_code == 302
    assert Node.objects.get(pk=dea.pk).cluster == other
    # demo's Core stays demo's, even as a row that is moved.
    core = demo.nodes.get(address="127.0.0.11")
    response = operator.post(reverse("admin:nodes_node_change", args=[core.pk]), node_form(other, "127.0.0.11"))
    assert f"127.0.0.11 {HELD}" in response.content.decode()
    assert Node.objects.get(pk=core.pk).cluster == demo


class KatoOnCore:
    """The Core node's session: `kato node list` as kato prints it."""

    def __init__(self, printed):
        self.printed = printed

    def run(self, argv, *, timeout=None, check=False):
        assert list(argv) == ["kato", "node", "list"]
        return CommandResult(tuple(argv), 0, self.printed, "")


class Pool:
    def __init__(self, printed):
        self.session = KatoOnCore(printed)
        self.asked = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get(self, endpoint):
        self.asked.append(endpoint.address)
        return self.session


def test_import_reports_nodes_another_cluster_holds_and_imports_the_rest(demo):
    # staging's Core lists demo's DEA 127.0.0.13 too (a node in two clusters' config).
    staging = Cluster.objects.create(name="staging", core_address="127.0.0.21", ssh_port=2222)
    pool = Pool("127.0.0.13 dea\n127.0.0.21 primary controller router\n127.0.0.22 dea\n")
    assert importer.import_nodes(staging, pool) == (1, 1, ["127.0.0.13 (a node of cluster demo)"])  # 1 updated: the Core's roles
    assert sorted(staging.nodes.values_list("address", flat=True)) == ["127.0.0.21", "127.0.0.22"]
    assert Node.objects.get(address="127.0.0.13").cluster == demo
    staging.refresh_from_db()
    assert staging.last_import_error == ("Not imported, a machine belongs to one cluster: "
                                         "127.0.0.13 (a node of cluster demo).")
    # Once it is only in staging's list, the next import is clean.
    Node.objects.filter(address="127.0.0.13").delete()
    assert importer.import_nodes(staging, pool) == (1, 0, [])
    staging.refresh_from_db()
    assert staging.last_import_error == ""


def test_import_of_a_cluster_on_another_clusters_core_is_refused(demo, monkeypatch):
    # Made before the page refused it: the cluster "x" the demo walk found.
    x = Cluster.objects.create(name="x", core_address="127.0.0.11", ssh_port=2222)
    pool = Pool("127.0.0.11 primary controller router\n127.0.0.12 dea\n127.0.0.13 dea\n")
    monkeypatch.setattr(jobs.remote, "session_pool", lambda: pool)
    with pytest.raises(importer.ImportRefused):
        jobs.import_cluster_nodes(x.pk)
    assert pool.asked == [] and not x.nodes.exists()
    x.refresh_from_db()
    assert x.last_import_error == ("Import refused: the Core node 127.0.0.11 is a node of cluster demo, and a "
                                   "machine belongs to one cluster. Nothing was imported.")


def test_import_losing_a_race_for_a_node_reports_it(demo, monkeypatch):
    # Two imports at once: demo's took 127.0.0.13 after staging's import
    # checked it (the check says "nobody's" once), so the database refuses it.
    staging = Cluster.objects.create(name="staging", core_address="127.0.0.21", ssh_port=2222)
    checked = []
    real = importer.machine_claims.owner_elsewhere

    def checked_before_the_other_import_wrote(address, cluster, node=None):
        if address == "127.0.0.13" and address not in checked:
            checked.append(address)
            return None
        return real(address, cluster, node)

    monkeypatch.setattr(importer.machine_claims, "owner_elsewhere", checked_before_the_other_import_wrote)
    pool = Pool("127.0.0.13 dea\n127.0.0.21 primary controller router\n127.0.0.22 dea\n")
    assert importer.import_nodes(staging, pool) == (1, 1, ["127.0.0.13 (a node of cluster demo)"])
    assert sorted(staging.nodes.values_list("address", flat=True)) == ["127.0.0.21", "127.0.0.22"]
