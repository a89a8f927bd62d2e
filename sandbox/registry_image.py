"""The registry image the console provisions on the sandbox's Core node.

No image can be downloaded here, so `sandbox up` makes one: `docker import`
of a root filesystem holding Debian's docker-registry binary (the Docker
distribution registry, v2 API), the libraries it links and a config, into
the Core node's engine. The console then runs it there exactly as on a real
Core (images/registry_provision.py), with REGISTRY_IMAGE set to this name
(`make demo` sets it: scripts/print_config.py).
"""
import subprocess
import tarfile
from pathlib import Path

import docker

from sandbox import engines, procs

IMAGE = "stackato-dash/sandbox-registry:2.8"
REGISTRY = "/usr/bin/docker-registry"
CONFIG_PATH = "/etc/docker/registry/config.yml"
# The image's own default listens on loopback only: the sandbox's engines
# have no container networking, so the console runs it with host networking
# and REGISTRY_HTTP_ADDR=<core address>:5000 (distribution's environment
# override of http.addr). Storage delete on, like the sandbox's registry.
CONFIG = """version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
"""


def _libraries(binary: str) -> list[Path]:
    """The shared objects binary links (Debian's registry is not static)."""
    printed = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    # "libc.so.6 => /lib/.../libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
    return [Path(word) for line in printed.splitlines() for word in line.split()[:3] if word.startswith("/")]


def rootfs_tar(state_dir: Path) -> Path:
    tar_path = state_dir / "registry-rootfs.tar"
    if tar_path.exists():
        return tar_path
    if not Path(REGISTRY).exists():
        raise procs.SandboxError(f"{REGISTRY} is missing: install Debian's docker-registry.")
    tmp = tar_path.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:
        for directory in ("tmp", "var/lib/registry", "etc/docker/registry"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        for path in [Path(REGISTRY), *_libraries(REGISTRY)]:
            # The real file under the name the loader asks for (no symlinks to follow).
            tar.add(path.resolve(), arcname=str(path).lstrip("/"))
        config = state_dir / "registry-image-config.yml"
        config.write_text(CONFIG)
        tar.add(config, arcname=CONFIG_PATH.lstrip("/"))
    tmp.replace(tar_path)
    return tar_path


def ensure(core: dict, state_dir: Path) -> None:
    """Import the image into the Core node's engine unless it is there."""
    engine = engines.client(core)
    try:
        engine.images.get(IMAGE)
        return
    except docker.errors.ImageNotFound:
        pass
    repository, tag = IMAGE.rsplit(":", 1)
    changes = [f'ENTRYPOINT ["{REGISTRY}"]', f'CMD ["serve", "{CONFIG_PATH}"]', "EXPOSE 5000",
               'VOLUME ["/var/lib/registry"]']
    with open(rootfs_tar(state_dir), "rb") as data:
        engine.api.import_image_from_data(data.read(), repository=repository, tag=tag, changes=changes)
    engine.images.get(IMAGE)  # raises if the import did not land
