"""`sandbox up / down / status`: start, stop and describe the whole cluster."""
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox import config_redis, engines, layout, procs, registry, registry_image, sshd
from sandbox.nodeside import faults, fence_status, supervisor_conf


def up(state_dir: Path, **options) -> dict:
    """Start every part that is not already running; a second call reuses
    what runs. On failure everything is stopped again and the error raised."""
    cluster = _cluster_for(state_dir, **options)
    # The engines' and supervisord's sockets live here: ours before anything starts.
    procs.private_dir(Path(cluster["socket_dir"]))
    layout.save(cluster)
    _write_kato_wrapper(cluster)
    public_key = sshd.ensure_client_key(Path(cluster["client_key"]))
    try:
        config_redis.start(cluster)
        registry.start(cluster)
        if cluster["docker"]:
            _start_engines(cluster)
        for node in layout.deas(cluster):
            supervisor_conf.start(cluster, node)
        for node in layout.deas(cluster):
            _wait_for_fence(cluster, node)
        for node in cluster["nodes"]:
            sshd.write_config(cluster, node, public_key)
            if not faults.read(node["dir"]).get("down"):
                sshd.start(node)
    except BaseException:
        down(state_dir)
        raise
    return cluster


def _wait_for_fence(cluster: dict, node: dict) -> None:
    """`up` returns a settled cluster: fence RUNNING (or FATAL, for a reason
    its log gives) on every DEA, past supervisord's start window."""
    procs.wait_until(lambda: fence_status.read(cluster, node)["state"] in ("RUNNING", "FATAL"), 30,
                     f"fence on node {node['name']}", Path(node["dir"]) / "fence.log")


def _cluster_for(state_dir: Path, **options) -> dict:
    wanted = layout.describe(state_dir, **options)
    if not layout.path(state_dir).exists():
        return wanted
    existing = layout.load(state_dir)
    if _same_shape(existing, wanted) or not any(_running_parts(existing)):
        return wanted
    raise procs.SandboxError(
        f"a sandbox with other settings runs in {state_dir}; run `manage.py sandbox down` first.")


def _same_shape(a: dict, b: dict) -> bool:
    keys = ("kato_version", "docker", "client_key")
    return all(a[k] == b[k] for k in keys) and [
        (n["name"], n["address"], n["ssh_port"]) for n in a["nodes"]] == [
        (n["name"], n["address"], n["ssh_port"]) for n in b["nodes"]]


def _write_kato_wrapper(cluster: dict) -> None:
    bin_dir = Path(cluster["state_dir"]) / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "kato"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# The sandbox's kato emulator (sandbox/README.md).\n"
        f"PYTHONPATH='{cluster['project_dir']}' exec '{cluster['python']}' -m sandbox.nodeside.kato \"$@\"\n")
    wrapper.chmod(0o755)


def _start_engines(cluster: dict) -> None:
    for node in cluster["nodes"]:
        engines.start(node)
    rootfs = engines.base_rootfs_tar(Path(cluster["state_dir"]))

    def ready(node: dict) -> None:
        engines.wait_ready(node)
        engines.ensure_base_image(node, rootfs)
    # Engines boot in a few seconds each; wait for them side by side.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ready, cluster["nodes"]))
    # The image the console's "Provision registry" runs on the Core node.
    registry_image.ensure(layout.node(cluster, "core"), Path(cluster["state_dir"]))


def _running_parts(cluster: dict) -> list[str]:
    parts = []
    if config_redis.running(cluster):
        parts.append("config_redis")
    if registry.running(cluster):
        parts.append("registry")
    for node in cluster["nodes"]:
        if sshd.running(node):
            parts.append(f"{node['name']} sshd")
        if node["docker_host"] and engines.running(node):
            parts.append(f"{node['name']} dockerd")
        if node["supervisor_socket"] and supervisor_conf.running(node):
            parts.append(f"{node['name']} supervisord")
    return parts


def down(state_dir: Path, purge: bool = False) -> None:
    """Stop everything this sandbox started, by pid. State stays for the next
    `up` unless purge is set."""
    if layout.path(state_dir).exists():
        cluster = layout.load(state_dir)
        for node in cluster["nodes"]:
            sshd.stop(node)
        for node in layout.deas(cluster):
            supervisor_conf.stop(node)
        if cluster["docker"]:
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(engines.stop, cluster["nodes"]))
        registry.stop(cluster)
        config_redis.stop(cluster)
        shutil.rmtree(cluster["socket_dir"], ignore_errors=True)
    if purge:
        shutil.rmtree(state_dir, ignore_errors=True)


def status(state_dir: Path) -> dict:
    cluster = layout.load(state_dir)
    nodes = []
    for node in cluster["nodes"]:
        nodes.append({
            "name": node["name"],
            "address": node["address"],
            "ssh_port": node["ssh_port"],
            "ssh_user": node["ssh_user"],
            "roles": node["roles"],
            "host_key_fingerprint": sshd.fingerprint(node),
            "private_key": cluster["client_key"],
            "sshd": "running" if sshd.running(node) else "stopped",
            "docker_host": node["docker_host"],
            "fence": fence_status.read(cluster, node) if node["supervisor_socket"] else None,
            "faults": faults.read(node["dir"]),
        })
    return {
        "state_dir": cluster["state_dir"],
        "kato_version": cluster["kato_version"],
        "registry": {"location": registry.location(cluster),
                     "state": "running" if registry.answers(cluster) else "stopped"},
        "config_redis": {"location": f"{cluster['config_redis']['host']}:{cluster['config_redis']['port']}",
                         "state": "running" if config_redis.running(cluster) else "stopped"},
        "nodes": nodes,
    }
