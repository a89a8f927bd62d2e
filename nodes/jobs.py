"""RQ jobs for nodes. They take primary keys, re-read the rows, and keep
their results on the rows (DESIGN.md section 3), in the one job lifecycle."""
from job_runs import lifecycle
from nodes import facts, importer, remote
from nodes.models import Cluster, Node


# Their only row is the JobRun (job_runs/): the node's facts say the rest.
@lifecycle.job()
def refresh_node_facts(node_id: int) -> str:
    node = Node.objects.select_related("cluster").get(pk=node_id)
    with remote.session_pool() as pool:
        facts.refresh(node, pool)
    return node.drift


@lifecycle.job()
def import_cluster_nodes(cluster_id: int) -> str:
    cluster = Cluster.objects.get(pk=cluster_id)
    with remote.session_pool() as pool:
        created, updated, left_out = importer.import_nodes(cluster, pool)
    return f"{created} created, {updated} updated" + (f", not imported: {', '.join(left_out)}" if left_out else "")
