"""Import nodes: `kato node list` on the Core node -> one Node row per line."""
from django.db import transaction
from django.utils import timezone

from nodes import remote, ssh
from nodes.kato import Kato
from nodes.models import Cluster, Node


def ensure_core_node(cluster: Cluster) -> Node:
    """The Core node is where import starts; it arrives untrusted like any node."""
    node, _ = Node.objects.get_or_create(
        cluster=cluster, address=cluster.core_address,
        defaults={"ssh_port": cluster.ssh_port, "ssh_user": cluster.ssh_user, "roles": ["primary"]})
    return node


def import_nodes(cluster: Cluster, pool: ssh.SessionPool) -> tuple[int, int]:
    """Create or update a Node per `kato node list` line; returns (created, updated).
    Failures are kept on the cluster (last_import_error) and raised."""
    core = ensure_core_node(cluster)
    cluster.last_import_at = timezone.now()
    try:
        entries = Kato(pool.get(remote.endpoint(core))).node_list()
    except (ssh.SSHError, ssh.RemoteCommandError) as error:
        if isinstance(error, ssh.HostKeyChanged):
            remote.record_host_key_mismatch(core, error)
            core.save(update_fields=["host_key_mismatch_fingerprint", "host_key_mismatch_at", "last_error"])
        cluster.last_import_error = f"Import through the Core node {core.address} failed: {error}"
        cluster.save(update_fields=["last_import_at", "last_import_error"])
        raise
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            node, was_created = Node.objects.get_or_create(
                cluster=cluster, address=entry.address,
                defaults={"ssh_port": cluster.ssh_port, "ssh_user": cluster.ssh_user, "roles": list(entry.roles)})
            if was_created:
                created += 1
            elif node.roles != list(entry.roles):
                node.roles = list(entry.roles)
                node.save(update_fields=["roles"])
                updated += 1
        cluster.last_import_error = ""
        cluster.save(update_fields=["last_import_at", "last_import_error"])
    return created, updated
