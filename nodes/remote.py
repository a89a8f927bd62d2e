"""From a Node row to an SSH session: the pinned key, the settings' timeouts,
and what a refused host key leaves on the node."""
from django.conf import settings
from django.utils import timezone

from nodes import ssh


def endpoint(node) -> ssh.Endpoint:
    host_key = ssh.HostKey(node.host_key_type, node.host_key) if node.is_trusted else None
    return ssh.Endpoint(address=node.address, port=node.ssh_port, user=node.ssh_user, host_key=host_key)


def session_pool() -> ssh.SessionPool:
    """One connection per node for the length of a job."""
    return ssh.SessionPool(private_key_path=settings.SSH_PRIVATE_KEY_PATH, use_agent=settings.SSH_USE_AGENT,
                           connect_timeout=settings.SSH_CONNECT_TIMEOUT, command_timeout=settings.SSH_COMMAND_TIMEOUT)


def record_host_key_mismatch(node, error: ssh.HostKeyChanged) -> None:
    """Keep the event on the node: the console shows both fingerprints."""
    # presented is None when the node offers no key of the pinned type at all.
    node.host_key_mismatch_fingerprint = error.presented.fingerprint if error.presented else "no key of the pinned type"
    node.host_key_mismatch_at = timezone.now()
    node.last_error = str(error)
