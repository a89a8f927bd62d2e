"""The cluster's Docker registry (Debian's docker-registry, v2 API) on the
Core node's address, as in the seed's registry procedure."""
import urllib.request
from pathlib import Path

from sandbox import procs

REGISTRY = "/usr/bin/docker-registry"


def _paths(cluster: dict) -> dict:
    d = Path(cluster["state_dir"]) / "registry"
    return {"dir": d, "config": d / "config.yml", "storage": d / "storage",
            "pidfile": d / "registry.pid", "log": d / "registry.log"}


def location(cluster: dict) -> str:
    return f"{cluster['registry']['host']}:{cluster['registry']['port']}"


def running(cluster: dict) -> int | None:
    return procs.alive(_paths(cluster)["pidfile"], REGISTRY)


def answers(cluster: dict) -> bool:
    try:
        with urllib.request.urlopen(f"http://{location(cluster)}/v2/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start(cluster: dict) -> None:
    if running(cluster):
        return
    p = _paths(cluster)
    p["storage"].mkdir(parents=True, exist_ok=True)
    # Delete enabled so tests and operators can remove tags; no debug or
    # metrics listener, so nothing listens beyond the one loopback port.
    p["config"].write_text(f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {p['storage']}
  delete:
    enabled: true
http:
  addr: {location(cluster)}
""")
    procs.require_port_free(cluster["registry"]["host"], cluster["registry"]["port"], "the sandbox registry")
    procs.spawn([REGISTRY, "serve", str(p["config"])], p["pidfile"], p["log"])
    procs.wait_until(lambda: answers(cluster), 20, f"the registry on {location(cluster)}", p["log"])


def stop(cluster: dict) -> None:
    procs.stop(_paths(cluster)["pidfile"], REGISTRY)
