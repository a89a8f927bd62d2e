"""`sandbox register`: put the sandbox into the console as a Cluster with its
nodes, their host keys pinned from the sandbox's own key files.

Reading the keys from disk is the out-of-band check an operator would do on
each node's console; nothing is trusted from the network."""
from pathlib import Path

from django.db import transaction

from nodes import drift, machine_claims
from nodes.models import Cluster, Node
from nodes.ssh import HostKey
from sandbox import layout, sshd
from sandbox.procs import SandboxError

BEHAVIOUR = {"3.0": "3.0", "3.0.1": "3.0.1", "3.4": "3.4", "3.4.1": "3.4"}


@transaction.atomic
def register(state_dir: Path, name: str) -> Cluster:
    sandbox = layout.load(state_dir)
    core = layout.node(sandbox, "core")
    # A machine belongs to one cluster (nodes/machine_claims.py): the same
    # sandbox under a second name would be two clusters on one fleet.
    existing = Cluster.objects.filter(name=name).first()
    for entry in sandbox["nodes"]:
        owner = machine_claims.owner_elsewhere(entry["address"], existing)
        if owner is not None:
            raise SandboxError(f"cannot register the sandbox as {name}: "
                               f"{machine_claims.refusal(entry['address'], owner)}")
    cluster, _ = Cluster.objects.update_or_create(name=name, defaults={
        "core_address": core["address"],
        "api_endpoint": "api.stackato.local",
        "registry": f"{sandbox['registry']['host']}:{sandbox['registry']['port']}",
        "kato_behaviour": BEHAVIOUR[sandbox["kato_version"]],
        "ssh_user": core["ssh_user"],
        "ssh_port": core["ssh_port"],
    })
    for entry in sandbox["nodes"]:
        key = HostKey.from_openssh_line(sshd.host_key(entry).with_suffix(".pub").read_text())
        node, _ = Node.objects.update_or_create(cluster=cluster, address=entry["address"], defaults={
            "ssh_port": entry["ssh_port"], "ssh_user": entry["ssh_user"], "roles": entry["roles"],
            "host_key_type": key.key_type, "host_key": key.key_base64, "host_key_fingerprint": key.fingerprint,
            "host_key_trusted_by": "sandbox register", "host_key_mismatch_fingerprint": "",
            "host_key_mismatch_at": None,
        })
        node.drift = drift.classify(node)
        node.save(update_fields=["drift"])
    return cluster
