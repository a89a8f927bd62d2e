"""Refresh one node's facts over SSH: desired image, fence, Docker engine.

fence's state, pid and start time come from the node's supervisord
(nodes/supervisor.py); kato's process list gives only the state, and only
when supervisord cannot be asked (then last_error says why)."""
from django.utils import timezone

from nodes import config_history, drift, remote, remote_docker, ssh
from nodes.kato import Kato
from nodes.supervisor import Supervisor, SupervisorError

FACT_FIELDS = [
    "last_seen", "reachable", "desired_image", "fence_state", "fence_pid", "fence_started_at",
    "docker_version", "images", "registry_config", "facts_refreshed_at", "last_error", "drift",
    "host_key_mismatch_fingerprint", "host_key_mismatch_at", "facts_verified_at", "facts_verified_by_rollout",
    "desired_image_set_at", "desired_image_set_by_rollout",
]


def refresh(node, pool: ssh.SessionPool) -> None:
    """Read the node's facts and save them; never raises for a node problem:
    the problem is what the facts (reachable, last_error, drift) say."""
    node.facts_refreshed_at = timezone.now()
    try:
        warning = _collect(node, pool.get(remote.endpoint(node)))
        node.reachable = True
        node.last_seen = node.facts_refreshed_at
        node.last_error = warning
        # Every fact is read again: none is a rollout's verification any more.
        node.facts_verified_at = node.facts_verified_by_rollout = None
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
    node.drift = drift.classify(node, drift.expected_image(node))
    node.save(update_fields=FACT_FIELDS)


def _collect(node, session) -> str:
    """Fills the node's facts; returns a warning for last_error ('' if none)."""
    kato = Kato(session)
    setting = node.cluster.image_setting
    desired = kato.config_get(setting.component, setting.key)
    # 3.4 keeps a list: the first entry is the default image.
    node.desired_image = desired[0] if isinstance(desired, list) and desired else str(desired)
    note_desired_image(node.cluster, node.desired_image)
    # Read on the node now: no longer what a rollout's config step wrote (config_facts.py).
    node.desired_image_set_at = node.desired_image_set_by_rollout = None
    node.docker_version = remote_docker.engine_version(session)
    node.images = remote_docker.images(session)
    node.registry_config = remote_docker.registry_config(session)
    node.fence_state, node.fence_pid, node.fence_started_at = "", None, None
    if not node.is_dea:
        return ""
    try:
        fence = Supervisor(session).process_info("fence")
    except (ssh.PortClosed, SupervisorError) as error:
        node.fence_state = kato.process("fence").state
        return f"fence's pid and start time unknown: {error}"
    node.fence_state, node.fence_pid, node.fence_started_at = fence.state, fence.pid, fence.started
    return ""


def note_desired_image(cluster, image: str) -> None:
    """Date a config value the console did not set: from when it was first seen
    (a change seen on the first read of a cluster is not dated at all)."""
    config_history.record(cluster, image, timezone.now(), seen_by_refresh=True)
