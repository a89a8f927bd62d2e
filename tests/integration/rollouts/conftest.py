"""The 4-DEA rollout sandbox fixtures live in tests/support/rollout_sandbox.py
(shared with tests/browser); the rollout tests import push_version from here."""
from support.rollout_sandbox import BASE, push_version

__all__ = ["BASE", "push_version"]
