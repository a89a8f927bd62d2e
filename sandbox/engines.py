"""One Docker engine per node, and the base image every engine starts with."""
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import docker

from sandbox import procs

DOCKERD = "/usr/sbin/dockerd"
BASE_IMAGE = "stackato/app-holophonor:3.0.0"
BUSYBOX = "/bin/busybox"
# What app containers run (CMD ["start.sh"] in the seed procedure): stay up.
START_SH = b"#!/bin/sh\nexec sleep 2147483647\n"


def _paths(node: dict) -> dict:
    d = Path(node["dir"]) / "docker"
    return {"data": d / "data", "pidfile": d / "dockerd.pid", "log": d / "dockerd.log",
            "exec": Path(node["docker_host"].removeprefix("unix://")).parent / "exec",
            "socket": Path(node["docker_host"].removeprefix("unix://"))}


def client(node: dict, timeout: int = 120) -> docker.DockerClient:
    return docker.DockerClient(base_url=node["docker_host"], timeout=timeout)


def running(node: dict) -> int | None:
    return procs.alive(_paths(node)["pidfile"], DOCKERD)


def start(node: dict) -> None:
    """Start the engine (no wait: engines boot in parallel, see wait_ready)."""
    if running(node):
        return
    p = _paths(node)
    for key in ("data", "exec"):
        p[key].mkdir(parents=True, exist_ok=True)
    p["socket"].unlink(missing_ok=True)
    # No container networking and no host firewall changes: the sandbox must
    # not touch the machine's network, and builds run with network mode none.
    argv = [DOCKERD, "--data-root", str(p["data"]), "--exec-root", str(p["exec"]),
            "--pidfile", str(p["exec"] / "dockerd.pid"), "-H", node["docker_host"],
            "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false"]
    procs.spawn(argv, p["pidfile"], p["log"])


def wait_ready(node: dict) -> None:
    def answers() -> bool:
        try:
            return client(node, timeout=2).ping()
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False
    procs.wait_until(answers, 60, f"dockerd of node {node['name']}", _paths(node)["log"])


def stop(node: dict) -> None:
    procs.stop(_paths(node)["pidfile"], DOCKERD, timeout=30)
    _unmount_netns(_paths(node)["exec"] / "netns")


def _unmount_netns(netns_dir: Path) -> None:
    """A host-network container (the Core's registry) makes dockerd bind-mount
    the host's network namespace under its exec-root; dockerd leaves it
    mounted when it stops, so `sandbox down` could not remove the directory."""
    prefix = str(netns_dir) + "/"
    with open("/proc/mounts") as mounts:
        mounted = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for path in mounted:
        subprocess.run(["umount", path], check=False, capture_output=True)


def base_rootfs_tar(state_dir: Path) -> Path:
    """A tiny root filesystem from Debian's busybox-static: no image can be
    downloaded here, so the base image is imported from this tar."""
    tar_path = state_dir / "base-rootfs.tar"
    if tar_path.exists():
        return tar_path
    if not os.path.exists(BUSYBOX):
        raise procs.SandboxError(f"{BUSYBOX} is missing: install Debian's busybox-static.")
    rootfs = state_dir / "base-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    (rootfs / "bin").mkdir(parents=True)
    for d in ("tmp", "etc", "root", "proc", "sys", "dev", "app"):
        (rootfs / d).mkdir()
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (rootfs / "bin" / applet).symlink_to("busybox")
    start_sh = rootfs / "bin" / "start.sh"
    start_sh.write_bytes(START_SH)
    start_sh.chmod(0o755)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    tmp = tar_path.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:
        tar.add(rootfs, arcname=".")
    tmp.replace(tar_path)
    shutil.rmtree(rootfs)
    return tar_path


def ensure_base_image(node: dict, rootfs_tar: Path) -> None:
    engine = client(node)
    try:
        engine.images.get(BASE_IMAGE)
        return
    except docker.errors.ImageNotFound:
        pass
    repository, tag = BASE_IMAGE.rsplit(":", 1)
    with open(rootfs_tar, "rb") as data:
        engine.api.import_image_from_data(data.read(), repository=repository, tag=tag,
                                          changes=['CMD ["start.sh"]'])
    engine.images.get(BASE_IMAGE)  # raises if the import did not land
