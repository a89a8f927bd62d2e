"""The sandbox cluster's description: which nodes, on which addresses, with
which paths. Written once to <state>/sandbox.json, read by the orchestrator
and by kato/fence inside every node's SSH session."""
import hashlib
import ipaddress
import json
import sys
from pathlib import Path

from sandbox.procs import SandboxError

KATO_VERSIONS = ("3.0", "3.0.1", "3.4", "3.4.1")
CORE_ROLES = ["primary", "controller", "router"]
DEA_ROLES = ["dea"]
REGISTRY_PORT = 5000
CONFIG_REDIS_PORT = 7474  # Stackato's config_redis port
SUPERVISOR_PORT = 9001  # Stackato's supervisord port on every node


def describe(state_dir: Path, *, dea_count: int, docker: bool, kato_version: str,
             base_address: str, ssh_port: int, client_key: Path) -> dict:
    if kato_version not in KATO_VERSIONS:
        raise SandboxError(f"kato version {kato_version!r} is not one of {', '.join(KATO_VERSIONS)}.")
    if not 1 <= dea_count <= 200:
        raise SandboxError(f"--dea must be between 1 and 200, not {dea_count}.")
    state_dir = state_dir.resolve()
    # Unix socket paths must stay under 108 bytes, so they go in a short
    # directory named after the state directory (stable across runs).
    sandbox_id = hashlib.sha256(str(state_dir).encode()).hexdigest()[:8]
    socket_dir = Path(f"/tmp/sbx-{sandbox_id}")
    addresses = _addresses(base_address, dea_count + 1)
    nodes = []
    for index, address in enumerate(addresses):
        name = "core" if index == 0 else f"dea{index}"
        is_dea = index > 0
        nodes.append({
            "name": name,
            "address": address,
            "ssh_port": ssh_port,
            "ssh_user": "root",
            "roles": DEA_ROLES if is_dea else CORE_ROLES,
            "dir": str(state_dir / "nodes" / name),
            "docker_host": f"unix://{socket_dir}/{name}/docker.sock" if docker else None,
            "supervisor_socket": f"{socket_dir}/{name}/supervisor.sock" if is_dea else None,
            "supervisor_port": SUPERVISOR_PORT if is_dea else None,  # XML-RPC on the node's address
        })
    return {
        "id": sandbox_id,
        "state_dir": str(state_dir),
        "socket_dir": str(socket_dir),
        "kato_version": kato_version,
        "python": sys.executable,
        "project_dir": str(Path(__file__).resolve().parent.parent),
        "client_key": str(client_key.resolve()),
        # Its password is generated into password_file (0600) when it starts.
        "config_redis": {"host": addresses[0], "port": CONFIG_REDIS_PORT,
                         "password_file": str(state_dir / "config_redis" / "password")},
        "registry": {"host": addresses[0], "port": REGISTRY_PORT},
        "docker": docker,
        "nodes": nodes,
    }


def _addresses(base: str, count: int) -> list[str]:
    try:
        first = ipaddress.IPv4Address(base)
    except ValueError:
        raise SandboxError(f"base address {base!r} is not an IPv4 address.") from None
    last = first + (count - 1)
    loopback = ipaddress.IPv4Network("127.0.0.0/8")
    if first not in loopback or last not in loopback or int(first) & 0xFF == 0:
        raise SandboxError(f"the sandbox uses loopback addresses only: {first}..{last} is not inside 127.0.0.0/8.")
    return [str(first + i) for i in range(count)]


def path(state_dir: Path) -> Path:
    return state_dir / "sandbox.json"


def load(state_dir: Path) -> dict:
    try:
        return json.loads(path(state_dir).read_text())
    except FileNotFoundError:
        raise SandboxError(f"no sandbox in {state_dir} (run `manage.py sandbox up` first).") from None


def save(cluster: dict) -> None:
    target = path(Path(cluster["state_dir"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(cluster, indent=2) + "\n")
    tmp.replace(target)


def node(cluster: dict, name: str) -> dict:
    for candidate in cluster["nodes"]:
        if name in (candidate["name"], candidate["address"]):
            return candidate
    names = ", ".join(n["name"] for n in cluster["nodes"])
    raise SandboxError(f"no node {name!r} in the sandbox (nodes: {names}).")


def deas(cluster: dict) -> list[dict]:
    return [n for n in cluster["nodes"] if "dea" in n["roles"]]
