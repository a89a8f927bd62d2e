"""Start a sandbox cluster for a test session and undo faults between tests."""
import contextlib
import tempfile
from pathlib import Path

from sandbox import cluster, config_redis, knobs, layout
from sandbox.engines import BASE_IMAGE


@contextlib.contextmanager
def running_sandbox(base_address: str, *, dea_count: int = 3, kato_version: str = "3.0",
                    docker: bool = True, ssh_port: int = 2222):
    # A short, private directory: the sandbox's socket paths derive from it.
    state_dir = Path(tempfile.mkdtemp(prefix="sbx-test-"))
    try:
        yield cluster.up(state_dir, dea_count=dea_count, docker=docker, kato_version=kato_version,
                         base_address=base_address, ssh_port=ssh_port,
                         client_key=state_dir / "client" / "id_ed25519")
    finally:
        cluster.down(state_dir, purge=True)


def restore(sandbox: dict) -> None:
    """Back to the state the session started with: no knobs, base image configured."""
    state_dir = Path(sandbox["state_dir"])
    knobs.reset_all(state_dir)
    conn = config_redis.client(sandbox)
    if sandbox["kato_version"] in ("3.4", "3.4.1"):
        wanted = {"docker": {"images": [BASE_IMAGE]}}
    else:
        wanted = {"docker": {"image": BASE_IMAGE}}
    import json
    if json.loads(conn.get("fence") or "{}") != wanted:
        conn.set("fence", json.dumps(wanted))
        conn.publish("fence:_changes", json.dumps(wanted))


def node(sandbox: dict, name: str) -> dict:
    return layout.node(sandbox, name)
