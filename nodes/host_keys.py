"""Trusting a node's host key: what the node presents, shown to an operator,
pinned only on confirmation (like ssh's first-connect prompt)."""
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone

from nodes import drift, ssh

# The confirmation page carries each presented key in a signed token, so the
# key pinned is exactly the one the operator saw, not one typed into a POST.
_SALT = "nodes.trust_host_key"
TOKEN_MAX_AGE = 15 * 60


@dataclass
class Presented:
    node: object
    key: ssh.HostKey | None = None
    token: str = ""
    error: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.key and self.node.is_trusted and self.key.fingerprint != self.node.host_key_fingerprint)


def scan(node) -> Presented:
    try:
        key = ssh.scan_host_key(node.address, node.ssh_port, timeout=settings.SSH_CONNECT_TIMEOUT)
    except ssh.SSHError as error:
        return Presented(node, error=str(error))
    token = signing.dumps({"node": node.pk, "type": key.key_type, "key": key.key_base64}, salt=_SALT)
    return Presented(node, key=key, token=token)


def key_from_token(node, token: str) -> ssh.HostKey:
    """Raises signing.BadSignature (also for an expired or foreign token)."""
    data = signing.loads(token, salt=_SALT, max_age=TOKEN_MAX_AGE)
    if data["node"] != node.pk:
        raise signing.BadSignature("token is for another node")
    return ssh.HostKey(data["type"], data["key"])


def pin(node, key: ssh.HostKey, username: str) -> None:
    node.host_key_type = key.key_type
    node.host_key = key.key_base64
    node.host_key_fingerprint = key.fingerprint
    node.host_key_trusted_at = timezone.now()
    node.host_key_trusted_by = username
    node.host_key_mismatch_fingerprint = ""
    node.host_key_mismatch_at = None
    node.drift = drift.classify(node)
    node.save(update_fields=["host_key_type", "host_key", "host_key_fingerprint", "host_key_trusted_at",
                             "host_key_trusted_by", "host_key_mismatch_fingerprint", "host_key_mismatch_at", "drift"])
