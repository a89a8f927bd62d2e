"""The registry container on the Core node's Docker engine, driven with the
docker CLI over the node's pinned SSH session (the seed's registry steps
1-3: pull, `docker run -d -p 5000`, `docker port <id> 5000`).

Two ways to run it, chosen by what the engine offers:
- published (the seed's way, any engine with Docker's default `bridge`
  network): `docker run -d -p <core address>::5000`, and the address comes
  from `docker port <container> 5000`. Publishing on the Core's own address
  rather than on every interface keeps the registry off public interfaces.
- host network (engines started with `--bridge=none`, as the sandbox's: no
  port can be published there, `-p` is silently ignored): `--network host`
  with REGISTRY_HTTP_ADDR=<core address>:5000 (the registry's documented
  environment override of http.addr), and the address comes from
  `docker inspect` (that variable in the container's config).
"""
import json

from nodes.remote_docker import DockerError
from nodes.ssh import CommandResult

NAME = "stackato-dash-registry"  # how a later run finds the container it started
PORT = 5000  # the registry's port inside its container, as in the seed's `docker port <id> 5000`
ADDR_VARIABLE = "REGISTRY_HTTP_ADDR"
TIMEOUT = 60
PULL_TIMEOUT = 900


def _run(session, argv: list[str], timeout: float = TIMEOUT, check: bool = True) -> CommandResult:
    result = session.run(argv, timeout=timeout)
    if check and result.exit_code != 0:
        printed = (result.stderr.strip() or result.stdout.strip() or "(nothing)")[-600:]
        where = getattr(getattr(session, "endpoint", None), "address", "?")
        raise DockerError(f"{where}: `{' '.join(argv)}` failed (exit {result.exit_code}): {printed}", result)
    return result


def inspect(session) -> dict | None:
    """The container's `docker container inspect` object, or None if there is none."""
    result = _run(session, ["docker", "container", "inspect", NAME], check=False)
    if result.exit_code != 0:
        if "no such" in (result.stderr + result.stdout).lower():
            return None
        _run(session, ["docker", "container", "inspect", NAME])  # raises with what it printed
    try:
        found = json.loads(result.stdout)
        return found[0]
    except (ValueError, IndexError, KeyError, TypeError):
        raise DockerError(f"`docker container inspect {NAME}` printed something that is not a container",
                          result) from None


def has_image(session, image: str) -> bool:
    return _run(session, ["docker", "image", "inspect", "--format", "{{.Id}}", image], check=False).exit_code == 0


def pull(session, image: str) -> str:
    return _run(session, ["docker", "pull", image], timeout=PULL_TIMEOUT).stdout


def has_bridge_network(session) -> bool:
    """Whether `docker run -p` can publish a port: it needs the default bridge."""
    names = _run(session, ["docker", "network", "ls", "--format", "{{.Name}}"]).stdout.split()
    return "bridge" in names


def run(session, image: str, core_address: str, host_network: bool) -> str:
    """Start the container; its id. Restarted with the engine unless an operator stops it."""
    argv = ["docker", "run", "-d", "--name", NAME, "--restart", "unless-stopped"]
    if host_network:
        argv += ["--network", "host", "-e", f"{ADDR_VARIABLE}={core_address}:{PORT}"]
    else:
        argv += ["-p", f"{core_address}::{PORT}"]
    return _run(session, [*argv, image]).stdout.strip()


def start(session) -> None:
    _run(session, ["docker", "start", NAME])


def logs_tail(session, lines: int = 20) -> str:
    result = _run(session, ["docker", "logs", "--tail", str(lines), NAME], check=False)
    return (result.stdout + result.stderr).strip()


def state(container: dict) -> str:
    return (container.get("State") or {}).get("Status", "unknown")


def uses_host_network(container: dict) -> bool:
    return (container.get("HostConfig") or {}).get("NetworkMode") == "host"


def host_network_address(container: dict) -> str | None:
    """host:port from the container's REGISTRY_HTTP_ADDR (host network mode)."""
    for entry in (container.get("Config") or {}).get("Env") or []:
        if entry.startswith(f"{ADDR_VARIABLE}="):
            return entry.split("=", 1)[1]
    return None


def published_port(session) -> int:
    """The host port Docker published for the registry's port 5000 (`docker port`).

    It prints one line per binding, e.g. "10.0.0.5:49153" and "[::]:49153".
    """
    result = _run(session, ["docker", "port", NAME, str(PORT)])
    ports = set()
    for line in result.stdout.split():
        host, _, port = line.rpartition(":")
        if port.isdigit() and host:
            ports.add(int(port))
    if len(ports) != 1:
        raise DockerError(f"`docker port {NAME} {PORT}` printed no single published port: "
                          f"{result.stdout.strip() or '(nothing)'}", result)
    return ports.pop()

