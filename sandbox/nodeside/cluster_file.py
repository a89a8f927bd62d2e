"""The cluster description `<SANDBOX_STATE>/sandbox.json`.

The orchestrator writes it once at `sandbox up`; every kato call and every
fence start reads it. It stays plain dicts (the format is in README.md and
in the orchestrator) so that loading it costs one json.load.
"""
import os
from pathlib import Path

from . import versions
from .jsonfile import read_json, write_json

FILE_NAME = "sandbox.json"


class ClusterFileError(Exception):
    """sandbox.json is missing, malformed, or does not know a node."""


def state_dir(env=None):
    env = os.environ if env is None else env
    value = env.get("SANDBOX_STATE")
    if not value:
        raise ClusterFileError("SANDBOX_STATE is not set (the sandbox state directory)")
    return Path(value)


def load(state=None):
    """The cluster dict from `<state>/sandbox.json` (state: SANDBOX_STATE by default)."""
    path = Path(state or state_dir()) / FILE_NAME
    try:
        cluster = read_json(path)
    except ValueError as exc:
        raise ClusterFileError(f"{path} is not valid JSON: {exc}") from None
    if cluster is None:
        raise ClusterFileError(f"{path} does not exist (is the sandbox up?)")
    if not isinstance(cluster.get("nodes"), list):
        raise ClusterFileError(f"{path} has no node list")
    try:
        versions.check(cluster.get("kato_version"))
    except ValueError as exc:
        raise ClusterFileError(f"{path}: {exc}") from None
    return cluster


def save(cluster, state=None):
    """Write the cluster atomically (for the orchestrator; kato never writes it)."""
    path = Path(state or cluster["state_dir"]) / FILE_NAME
    write_json(path, cluster)
    return path


def node_by_name(cluster, name):
    for node in cluster["nodes"]:
        if node["name"] == name:
            return node
    raise ClusterFileError(f"no node named {name!r} in the cluster")


def node_by_address(cluster, address):
    """The node with that address, or None (an address is a node's identity)."""
    for node in cluster["nodes"]:
        if node["address"] == address:
            return node
    return None


def this_node(cluster, env=None):
    """The node this process runs on, named by SANDBOX_NODE (set by sshd's SetEnv)."""
    env = os.environ if env is None else env
    name = env.get("SANDBOX_NODE")
    if not name:
        raise ClusterFileError("SANDBOX_NODE is not set (this node's name)")
    return node_by_name(cluster, name)


def node_dir(node):
    return Path(node["dir"])
