"""Import nodes: `kato node list` on the Core node -> one Node row per line.
A listed machine another cluster already holds is reported, not imported
(nodes/machine_claims.py)."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from nodes import machine_claims, remote, ssh
from nodes.kato import Kato
from nodes.models import Cluster, Node


class ImportRefused(Exception):
    """The cluster's own Core node belongs to another cluster: nothing to ask."""


def ensure_core_node(cluster: Cluster) -> Node:
    """The Core node is where import starts; it arrives untrusted like any node."""
    node, _ = Node.objects.get_or_create(
        cluster=cluster, address=cluster.core_address,
        defaults={"ssh_port": cluster.ssh_port, "ssh_user": cluster.ssh_user, "roles": ["primary"]})
    return node


def import_nodes(cluster: Cluster, pool: ssh.SessionPool) -> tuple[int, int, list[str]]:
    """Create or update a Node per `kato node list` line; returns (created,
    updated, what was left out because another cluster holds it). Failures
    are kept on the cluster (last_import_error) and raised; so is what was
    left out, as the import's result the cluster list shows."""
    cluster.last_import_at = timezone.now()
    # A cluster made before the page refused it (or behind its back) may sit
    # on another cluster's Core: asking there would import that fleet twice.
    owner = machine_claims.owner_elsewhere(cluster.core_address, cluster)
    if owner is not None:
        cluster.last_import_error = (f"Import refused: the Core node {cluster.core_address} is a node of cluster "
                                     f"{owner.name}, and a machine belongs to one cluster. Nothing was imported.")
        cluster.save(update_fields=["last_import_at", "last_import_error"])
        raise ImportRefused(cluster.last_import_error)
    core = ensure_core_node(cluster)
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
    left_out = []
    with transaction.atomic():
        for entry in entries:
            owner = machine_claims.owner_elsewhere(entry.address, cluster)
            if owner is not None:
                left_out.append(f"{entry.address} (a node of cluster {owner.name})")
                continue
            try:
                with transaction.atomic():  # a savepoint: the constraint's refusal leaves the rest going
                    node, was_created = Node.objects.get_or_create(
                        cluster=cluster, address=entry.address,
                        defaults={"ssh_port": cluster.ssh_port, "ssh_user": cluster.ssh_user,
                                  "roles": list(entry.roles)})
            except IntegrityError:
                # Another cluster's import took it between the check and here
                # (node_address_unique): the same report as when it was there first.
                owner = machine_claims.owner_elsewhere(entry.address, cluster)
                left_out.append(f"{entry.address} (a node of cluster {owner.name if owner else 'another cluster'})")
                continue
            if was_created:
                created += 1
            elif node.roles != list(entry.roles):
                node.roles = list(entry.roles)
                node.save(update_fields=["roles"])
                updated += 1
        cluster.last_import_error = (f"Not imported, a machine belongs to one cluster: {', '.join(left_out)}."
                                     if left_out else "")
        cluster.save(update_fields=["last_import_at", "last_import_error"])
    return created, updated, left_out
