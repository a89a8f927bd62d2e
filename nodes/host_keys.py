"""Trusting a node's host key: what the node presents, shown to an operator,
pinned only on confirmation (like ssh's first-connect prompt)."""
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone

from nodes import drift, ssh

# The confirmation page carries each presented key in a signed token, so the
# key pinned is exactly the one the operator saw, not one typed into a POST.
# The token is bound to the node, the address and port the key was read
# from, the console user who saw it, and the node's trust state at that
# moment: pinning changes that state, so a token works once (a replay, or a
# second token shown before the pin, is refused).
_SALT = "nodes.trust_host_key"
TOKEN_MAX_AGE = 15 * 60


class TokenRefused(signing.BadSignature):
    """The token is valid but not for this node, address, port, user or trust state."""


@dataclass
class Presented:
    node: object
    key: ssh.HostKey | None = None
    token: str = ""
    error: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.key and self.node.is_trusted and self.key.fingerprint != self.node.host_key_fingerprint)


def scan(node, user) -> Presented:
    try:
        key = ssh.scan_host_key(node.address, node.ssh_port, timeout=settings.SSH_CONNECT_TIMEOUT)
    except ssh.SSHError as error:
        return Presented(node, error=str(error))
    return Presented(node, key=key, token=make_token(node, key, user))


def _trust_state(node) -> str:
    return node.host_key_trusted_at.isoformat() if node.host_key_trusted_at else ""


def _binding(node, user) -> dict:
    return {"node": node.pk, "address": node.address, "port": node.ssh_port, "user": user.pk,
            "state": _trust_state(node)}


def make_token(node, key: ssh.HostKey, user) -> str:
    return signing.dumps({**_binding(node, user), "type": key.key_type, "key": key.key_base64}, salt=_SALT)


def key_from_token(node, token: str, user) -> ssh.HostKey:
    """Raises signing.BadSignature (also for an expired, foreign or used token)."""
    data = signing.loads(token, salt=_SALT, max_age=TOKEN_MAX_AGE)
    if not isinstance(data, dict) or any(data.get(name) != value for name, value in _binding(node, user).items()):
        raise TokenRefused("token is not for this node, address, port and user, or was used already")
    return ssh.HostKey(data["type"], data["key"])


def pin(node, key: ssh.HostKey, username: str) -> None:
    """Pin the key if the node's trust state is still the one the token saw
    (one UPDATE that compares it: two POSTs of one token pin once)."""
    from nodes.models import Node

    seen = node.host_key_trusted_at
    node.host_key_type = key.key_type
    node.host_key = key.key_base64
    node.host_key_fingerprint = key.fingerprint
    node.host_key_trusted_at = timezone.now()
    node.host_key_trusted_by = username
    node.host_key_mismatch_fingerprint = ""
    node.host_key_mismatch_at = None
    node.drift = drift.classify(node)
    fields = ["host_key_type", "host_key", "host_key_fingerprint", "host_key_trusted_at", "host_key_trusted_by",
              "host_key_mismatch_fingerprint", "host_key_mismatch_at", "drift"]
    unchanged = Node.objects.filter(pk=node.pk, host_key_trusted_at=seen) if seen else \
        Node.objects.filter(pk=node.pk, host_key_trusted_at__isnull=True)
    if not unchanged.update(**{name: getattr(node, name) for name in fields}):
        raise TokenRefused("the node's host key was pinned meanwhile: this confirmation was used already")
