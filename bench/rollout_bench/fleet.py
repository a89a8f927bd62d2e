"""The console's side of the bench fleet (in the bench process, Django set
up): the database, the sandbox registered as a cluster, a pushed version,
and the reset that puts every node back on the base image between runs."""
import shlex
import subprocess  # noqa: S404  docker CLI on the sandbox's own engine sockets, argv lists
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox import layout
from sandbox.nodeside import config_store, fence_status, kato_process

BASE = config_store.BASE_IMAGE
REPOSITORY = "bench/rollout"


def prepare(state_dir: Path):
    """Migrated database, a user, the sandbox as a Cluster with host keys pinned and facts refreshed."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from nodes import jobs
    from sandbox.register import register
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    cluster = register(state_dir, "bench")

    def refresh(node_id):
        try:
            return jobs.refresh_node_facts(node_id)
        finally:
            connection.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(refresh, cluster.nodes.values_list("pk", flat=True)))
    return cluster, user


def _docker(node: dict, *args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", "-H", node["docker_host"], *args], capture_output=True, text=True,  # noqa: S603 S607
                            timeout=300, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} on {node['name']}: {result.stderr.strip()}")
    return result.stdout.strip()


def push_version(sandbox: dict, cluster, tag: str):
    """A one-RUN-step image (the base image with one command run in it),
    committed on the Core engine and pushed to the sandbox registry, recorded
    as a pushed version (as the console's build and push would leave it)."""
    from django.utils import timezone

    from images.models import ImageVersion
    registry = f"{sandbox['registry']['host']}:{sandbox['registry']['port']}"
    ref = f"{registry}/{REPOSITORY}:{tag}"
    core = layout.node(sandbox, "core")
    run_step = f"echo {shlex.quote(tag)} > /bench-version"
    cid = _docker(core, "create", BASE, "sh", "-c", run_step)
    _docker(core, "start", "-a", cid)
    _docker(core, "commit", "--change", 'CMD ["start.sh"]', cid, ref)
    _docker(core, "rm", cid)
    _docker(core, "push", ref)
    digest = _docker(core, "image", "inspect", "--format", "{{index .RepoDigests 0}}", ref).rsplit("@", 1)[1]
    image_id = _docker(core, "image", "inspect", "--format", "{{.Id}}", ref)
    version, _ = ImageVersion.objects.update_or_create(
        cluster=cluster, repository=REPOSITORY, tag=tag,
        defaults=dict(from_reference=BASE, status="pushed", image_id=image_id, registry_reference=ref,
                      manifest_digest=digest, engine_reference=ref, built_at=timezone.now(),
                      pushed_at=timezone.now()))
    return version


def warm(sandbox: dict, version) -> None:
    """Pull the version once on every DEA engine, then reset. The sandbox's
    DEAs got the base image by `docker import`, so an engine's first pull of
    a version over it downloads and extracts the base layer again (it has no
    blob -> layer mapping for it yet); later pulls fetch only the new layer.
    Paid here, no timed run pays it (the first one, always ours, did)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda node: _docker(node, "pull", version.pull_reference), layout.deas(sandbox)))
    reset(sandbox, version)


def reset(sandbox: dict, version) -> None:
    """Config back to the base image, fence restarted on it, and the version
    removed from every DEA engine, so each run pulls and restarts everything."""
    conn = config_store.connect(sandbox)
    config_store.seed(conn, sandbox)

    def back(node):
        for ref in (version.registry_reference, version.pull_reference):
            _docker(node, "image", "rm", "--force", ref, check=False)
        if fence_status.read(sandbox, node).get("image") != BASE:
            kato_process.restart(node, "fence", lambda line: None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(back, layout.deas(sandbox)))
    wrong = [n["name"] for n in layout.deas(sandbox)
             if (s := fence_status.read(sandbox, n))["state"] != "RUNNING" or s["image"] != BASE]
    if wrong:
        raise RuntimeError(f"reset: fence is not RUNNING on {BASE} on {', '.join(wrong)}")
