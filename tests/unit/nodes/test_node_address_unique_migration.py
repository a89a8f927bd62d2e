"""nodes 0017 (a node's address unique across clusters) on a database that
already holds one machine in two clusters: it stops, naming the address and
both clusters, and leaves the rows as they were; with the extra row deleted
it runs, and then the database refuses a second cluster's row itself."""
import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from nodes.models import Cluster, Node

BEFORE = [("nodes", "0016_node_facts_verified_by_rollout")]


def _migrate(targets):
    """Migrates to targets (None: the latest); returns the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_names_machines_in_two_clusters_then_the_constraint_holds():
    # The rows as 0016 knows them: today's model has columns added since.
    apps = _migrate(BEFORE)
    OldCluster, OldNode = apps.get_model("nodes", "Cluster"), apps.get_model("nodes", "Node")
    demo = OldCluster.objects.create(name="demo", core_address="127.0.0.11")
    x = OldCluster.objects.create(name="x", core_address="127.0.0.11")
    for cluster in (demo, x):
        OldNode.objects.create(cluster=cluster, address="127.0.0.11", roles=["primary"])
    OldNode.objects.create(cluster=demo, address="127.0.0.12", roles=["dea"])

    with pytest.raises(RuntimeError, match=r"nodes of more than one: 127\.0\.0\.11 \(clusters demo, x\)\. Delete"):
        _migrate(None)
    assert OldNode.objects.filter(address="127.0.0.11").count() == 2

    OldNode.objects.filter(cluster=x).delete()
    _migrate(None)
    x = Cluster.objects.get(pk=x.pk)
    with pytest.raises(IntegrityError):
        Node.objects.create(cluster=x, address="127.0.0.12", ssh_port=2222, roles=["dea"])
