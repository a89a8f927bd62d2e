"""A 4-DEA sandbox for rollouts, registered in the console (rollout_fleet);
its versions come from support.image_versions.product_version. A plugin
(tests/conftest.py) so the integration and browser suites share one
session sandbox instead of starting two on the same addresses."""
import os
from pathlib import Path

import django_rq
import pytest

from nodes.models.node import Drift
from sandbox.register import register
from support.rq import register_idle_worker
from support.sandbox import restore, running_sandbox

ROLLOUT_SANDBOX_ADDRESS = os.environ.get("TEST_ROLLOUT_SANDBOX_ADDRESS", "127.0.9.11")


@pytest.fixture(scope="session")
def rollout_sandbox_session():
    with running_sandbox(ROLLOUT_SANDBOX_ADDRESS, dea_count=4, kato_version="3.0") as sandbox:
        yield sandbox


@pytest.fixture
def rollout_sandbox(rollout_sandbox_session):
    yield rollout_sandbox_session
    restore(rollout_sandbox_session)


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
def rollout_fleet(rollout_sandbox, settings, worker_alive):
    """The rollout sandbox as a Cluster in the console, host keys pinned and
    every node's facts refreshed (all in sync on the base image)."""
    settings.SSH_PRIVATE_KEY_PATH = Path(rollout_sandbox["client_key"])
    settings.SSH_CONNECT_TIMEOUT = 3
    settings.SSH_COMMAND_TIMEOUT = 30
    registered = register(Path(rollout_sandbox["state_dir"]), "rollouts")
    from nodes import jobs
    for node in registered.nodes.all():
        jobs.refresh_node_facts(node.pk)
    assert set(registered.nodes.values_list("drift", flat=True)) == {Drift.IN_SYNC}
    return registered
