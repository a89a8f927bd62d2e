"""Start a sandbox cluster for a test session and undo faults between tests."""
import contextlib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox import cluster, knobs, layout
from sandbox.nodeside import config_store, fence_status, kato_process, versions


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
    """Back to the state the session started with: no knobs, the registry up,
    the base image configured and fence RUNNING on it on every DEA."""
    knobs.reset_all(Path(sandbox["state_dir"]))
    conn = config_store.connect(sandbox)
    try:
        configured = config_store.fence_image_from(config_store.get_value(conn, "fence"), sandbox["kato_version"])
    except config_store.ConfigError:
        configured = None
    if configured != config_store.BASE_IMAGE:
        config_store.seed(conn, sandbox)
    # 3.0.1+ fences restart by themselves after the seed: give them a moment;
    # a 3.0 fence only moves when restarted.
    settle = 5 if versions.fence_follows_changes(sandbox["kato_version"]) else 0

    def back_on_base_image(dea):
        if not wait_for_fence(sandbox, dea, config_store.BASE_IMAGE, timeout=settle):
            kato_process.restart(dea, "fence", lambda line: None)
    # Each restart waits out supervisord's startsecs: do the nodes side by side.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(back_on_base_image, layout.deas(sandbox)))


def wait_for_fence(sandbox: dict, node: dict, image: str, timeout: float, state: str = "RUNNING") -> dict | None:
    """fence's status once it is in `state` on `image`, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        status = fence_status.read(sandbox, node)
        if status["state"] == state and (image is None or status["image"] == image):
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
