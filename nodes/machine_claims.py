"""A machine belongs to one cluster. Two clusters holding the same node would
let two rollouts (each the one unfinished rollout of its cluster) set config
on one Core node and fence-restart one DEA at the same time.

A machine is its address: Stackato names a node by its private IPv4 address
(`kato node list`), and the SSH port is only how the console reaches it, so the
same address on another port is still the same machine. A cluster claims its
nodes' addresses and its Core address (its Core node row may not exist yet)."""
from nodes.models import Cluster, Node


def owner_elsewhere(address: str, cluster: Cluster | None, node: Node | None = None) -> Cluster | None:
    """The other cluster that already holds `address` (as a node or as its
    Core node), or None. `cluster` is the one asking (None: a new one);
    `node` is the row being edited, which may move to `cluster`."""
    others_nodes = Node.objects.filter(address=address).select_related("cluster")
    if node is not None and node.pk is not None:
        others_nodes = others_nodes.exclude(pk=node.pk)
    others_cores = Cluster.objects.filter(core_address=address)
    if cluster is not None and cluster.pk is not None:
        others_nodes = others_nodes.exclude(cluster=cluster)
        others_cores = others_cores.exclude(pk=cluster.pk)
    node = others_nodes.order_by("cluster__name").first()
    if node is not None:
        return node.cluster
    return others_cores.order_by("name").first()


def refusal(address: str, owner: Cluster) -> str:
    return (f"{address} is already a node of cluster {owner.name}: a machine belongs to one cluster, or two "
            "rollouts could change it at once. Remove it there first.")
