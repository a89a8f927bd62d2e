"""A 4-DEA sandbox for rollouts, registered in the console with a pushed
image version that every node can pull from the sandbox registry. A plugin
(tests/conftest.py) so the integration and browser suites share one
session sandbox instead of starting two on the same addresses."""
import os
import shlex
from pathlib import Path

import django_rq
import pytest
from django.utils import timezone

from images.models import ImageVersion
from nodes.models.node import Drift
from sandbox import layout
from sandbox.register import register
from support import ssh
from support.rq import register_idle_worker
from support.sandbox import restore, running_sandbox

BASE = "stackato/app-holophonor:3.0.0"
ROLLOUT_SANDBOX_ADDRESS = os.environ.get("TEST_ROLLOUT_SANDBOX_ADDRESS", "127.0.9.11")


@pytest.fixture(scope="session")
def rollout_sandbox_session():
    with running_sandbox(ROLLOUT_SANDBOX_ADDRESS, dea_count=4, kato_version="3.0") as cluster:
        yield cluster


@pytest.fixture
def rollout_sandbox(rollout_sandbox_session):
    yield rollout_sandbox_session
    restore(rollout_sandbox_session)


def push_version(sandbox, cluster, tag: str, cmd: str | None = '["start.sh"]') -> ImageVersion:
    """An image in the sandbox registry (the base image with a file added,
    built on the Core node's engine), recorded as a pushed version. cmd is
    its CMD as a Dockerfile would write it; None for an image without any
    (exported and imported: no config at all)."""
    registry = f"{sandbox['registry']['host']}:{sandbox['registry']['port']}"
    ref = f"{registry}/exampleco/newimg:{tag}"
    core = layout.node(sandbox, "core")
    make = (f"docker commit --change {shlex.quote('CMD ' + cmd)} $cid {ref}" if cmd is not None
            else f"docker export $cid | docker import - {ref}")
    script = (f"set -e; cid=$(docker create {BASE} sh); {make} >/dev/null; "
              f"docker rm $cid >/dev/null; docker push {ref} >/dev/null; "
              f"docker image inspect --format '{{{{index .RepoDigests 0}}}}' {ref}")
    code, out, err = ssh.run(core, sandbox["client_key"], script)
    assert code == 0, err
    digest = out.strip().rsplit("@", 1)[1]
    version, _ = ImageVersion.objects.get_or_create(
        cluster=cluster, repository="exampleco/newimg", tag=tag,
        defaults=dict(from_reference=BASE, status="pushed", image_id="sha256:" + "0" * 64, registry_reference=ref,
                      manifest_digest=digest, engine_reference=ref, built_at=timezone.now(), pushed_at=timezone.now()))
    return version


@pytest.fixture
def worker_alive():
    """Redis is real; a registered worker lets the console's "is a worker
    alive?" check pass, and tests run the queued jobs with run_queued_jobs()."""
    queue = django_rq.get_queue("default")
    queue.empty()
    worker = register_idle_worker()
    yield worker
    worker.register_death()
    queue.empty()


@pytest.fixture
def cluster(rollout_sandbox, settings, worker_alive):
    settings.SSH_PRIVATE_KEY_PATH = Path(rollout_sandbox["client_key"])
    settings.SSH_CONNECT_TIMEOUT = 3
    settings.SSH_COMMAND_TIMEOUT = 30
    registered = register(Path(rollout_sandbox["state_dir"]), "rollouts")
    from nodes import jobs
    for node in registered.nodes.all():
        jobs.refresh_node_facts(node.pk)
    assert set(registered.nodes.values_list("drift", flat=True)) == {Drift.IN_SYNC}
    return registered
