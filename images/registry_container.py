"""The registry container on the Core node's Docker engine, driven with the
docker CLI over the node's pinned SSH session (the seed's registry steps
1-3: pull, `docker run -d -p 5000`, `docker port <id> 5000`).

Two ways to run it, chosen by what the engine offers:
- published (the seed's way, any engine with Docker's default `bridge`
  network): `docker run -d -p <core address>::5000`, and the address comes
  from `docker port <container> 5000`. Publishing on the Core's own address
  rather than on every interface keeps the registry off public interfaces.
- host network (engines started with `--bridge=none`, as the sandbox's: no
  port can be published there, `-p` is silently ignored): `--net host`
  with REGISTRY_HTTP_ADDR=<core address>:5000 (the registry's documented
  environment override of http.addr), and the address comes from
  `docker inspect` (that variable in the container's config).
"""
from nodes import remote_docker

NAME = "stackato-dash-registry"  # how a later run finds the container it started
PORT = 5000  # the registry's port inside its container, as in the seed's `docker port <id> 5000`
ADDR_VARIABLE = "REGISTRY_HTTP_ADDR"
TIMEOUT = 60
PULL_TIMEOUT = 900


def inspect(session) -> dict | None:
    """The container's `docker inspect` object, or None if there is none."""
    return remote_docker.inspect_container(session, NAME, timeout=TIMEOUT)


def has_image(session, image: str) -> bool:
    return remote_docker.image_id(session, image, timeout=TIMEOUT) is not None


def pull(session, image: str) -> str:
    return remote_docker.run(session, ["docker", "pull", "--", image], timeout=PULL_TIMEOUT).stdout


def has_bridge_network(session) -> bool:
    """Whether `docker run -p` can publish a port: it needs the default bridge.
    An engine older than `docker network` (1.9) has its docker0 bridge unless
    started with `--bridge=none`, which the CLI cannot see: taken as there."""
    result = session.run(["docker", "network", "inspect", "--", "bridge"], timeout=TIMEOUT)
    if result.exit_code == 0 or remote_docker.unsupported(result):
        return True
    if "no such" in (result.stderr + result.stdout).lower() or "not found" in result.stderr.lower():
        return False
    raise remote_docker.fail(session, result, "failed")


def run(session, image: str, core_address: str, host_network: bool) -> str:
    """Start the container; its id. `--restart always` (Docker 1.2+; unless-stopped
    needs 1.9) brings it back with the engine, as the registry must be."""
    argv = ["docker", "run", "-d", "--name", NAME, "--restart", "always"]
    if host_network:
        argv += ["--net", "host", "-e", f"{ADDR_VARIABLE}={core_address}:{PORT}"]
    else:
        argv += ["-p", f"{core_address}::{PORT}"]
    return remote_docker.run(session, [*argv, "--", image], timeout=TIMEOUT).stdout.strip()


def start(session) -> None:
    remote_docker.run(session, ["docker", "start", "--", NAME], timeout=TIMEOUT)


def logs_tail(session, lines: int = 20) -> str:
    result = session.run(["docker", "logs", "--tail", str(lines), "--", NAME], timeout=TIMEOUT)
    return (result.stdout + result.stderr).strip()


def state(container: dict) -> str:
    """Docker's State.Status; engines before 1.9 give only the flags."""
    found = container.get("State") or {}
    if found.get("Status"):
        return found["Status"]
    for flag, status in (("Paused", "paused"), ("Restarting", "restarting"), ("Running", "running")):
        if found.get(flag):
            return status
    if not found:
        return "unknown"
    return "created" if str(found.get("StartedAt", "")).startswith("0001-") else "exited"  # Go's zero time: never started


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
    result = remote_docker.run(session, ["docker", "port", "--", NAME, str(PORT)], timeout=TIMEOUT)
    ports = set()
    for line in result.stdout.split():
        host, _, port = line.rpartition(":")
        if port.isdigit() and host:
            ports.add(int(port))
    if len(ports) != 1:
        raise remote_docker.fail(session, result, "printed no single published port")
    return ports.pop()

