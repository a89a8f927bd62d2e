"""What the node actions' confirmation pages show before anything is queued."""
from stackato_dash.admin_confirmation import PlanRow


def refresh_rows(nodes) -> list[PlanRow]:
    rows = []
    for node in nodes:
        if node.is_trusted:
            effect = (f"SSH to {node.ssh_user}@{node.address}:{node.ssh_port} (pinned key {node.host_key_fingerprint}); "
                      "read fence's state, the cluster config and the engine's images. Nothing on the node changes.")
        else:
            # The job still runs: it records that the key is unknown without connecting.
            effect = "No connection: its host key is not trusted yet, so the refresh only records that."
        rows.append(PlanRow(f"{node.address} ({node.cluster})", effect))
    return rows


def import_rows(clusters) -> list[PlanRow]:
    rows = []
    for cluster in clusters:
        core = cluster.core_node
        if core is not None and core.is_trusted:
            effect = (f"Run `kato node list` on the Core node {core.address} over SSH; add the nodes it lists "
                      "(untrusted, until you trust their keys) and update their roles.")
        else:
            # The import job refuses and records why on the cluster; say so now.
            effect = (f"The Core node {cluster.core_address} is not trusted yet: the import will be refused. "
                      "Trust its host key first (Nodes, Trust host key).")
        rows.append(PlanRow(str(cluster), effect))
    return rows


TRUST_INTRO = ("Compare each fingerprint with the one the node itself reports "
               "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on its console). Only trust a key you have "
               "checked: from then on every connection must present exactly this key.")


def trust_rows(presented) -> list[PlanRow]:
    """One row per node scanned (host_keys.scan); the confirming POST carries
    each key shown as a signed token, so only what was shown is pinned."""
    rows = []
    for row in presented:
        node = row.node
        subject = f"{node.address}:{node.ssh_port} ({node.cluster})"
        if row.error:
            rows.append(PlanRow(subject, "", refusal=row.error))
            continue
        effect = (f"Pin {row.key.key_type} {row.key.fingerprint}, which it presents now; pinned now: "
                  f"{node.host_key_fingerprint if node.is_trusted else 'none'}.")
        if row.changed:
            effect += " The key changed: make sure the node was reinstalled."
        rows.append(PlanRow(subject, effect, hidden={f"key_{node.pk}": row.token}))
    return rows
