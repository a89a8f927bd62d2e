"""Refresh one node's facts over SSH: desired image, fence, Docker engine."""
from django.utils import timezone

from nodes import drift, remote, remote_docker, ssh
from nodes.kato import Kato

FACT_FIELDS = [
    "last_seen", "reachable", "desired_image", "fence_state", "fence_pid", "fence_image", "fence_started_at",
    "docker_version", "images", "registry_config", "facts_refreshed_at", "last_error", "drift",
    "host_key_mismatch_fingerprint", "host_key_mismatch_at",
]


def refresh(node, pool: ssh.SessionPool) -> None:
    """Read the node's facts and save them; never raises for a node problem:
    the problem is what the facts (reachable, last_error, drift) say."""
    node.facts_refreshed_at = timezone.now()
    try:
        _collect(node, pool.get(remote.endpoint(node)))
        node.reachable = True
        node.last_seen = node.facts_refreshed_at
        node.last_error = ""
    except ssh.HostKeyUnknown as error:
        node.last_error = str(error)
    except ssh.HostKeyChanged as error:
        remote.record_host_key_mismatch(node, error)
    except (ssh.Unreachable, ssh.ConnectionLost, ssh.AuthenticationFailed, ssh.CommandTimeout) as error:
        node.reachable = False
        node.last_error = str(error)
    except (ssh.SSHError, ssh.RemoteCommandError) as error:
        # It answered, but not the way a Stackato node should (kato or docker failed).
        node.reachable = True
        node.last_seen = node.facts_refreshed_at
        node.last_error = str(error)
    node.drift = drift.classify(node)
    node.save(update_fields=FACT_FIELDS)


def _collect(node, session) -> None:
    kato = Kato(session)
    desired = kato.config_get(node.cluster.config_component, node.cluster.image_key)
    # 3.4 keeps a list: the first entry is the default image.
    node.desired_image = desired[0] if isinstance(desired, list) and desired else str(desired)
    node.docker_version = remote_docker.engine_version(session)
    node.images = remote_docker.images(session)
    node.registry_config = remote_docker.registry_config(session)
    fence = next((p for p in kato.process_list() if p.name == "fence"), None) if node.is_dea else None
    node.fence_state = fence.state if fence else ""
    node.fence_pid = fence.pid if fence else None
    node.fence_image = (fence.image or "") if fence else ""
    node.fence_started_at = fence.started if fence else None
