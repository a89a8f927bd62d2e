"""A worker killed (SIGKILL) in the middle of a rollout: after recovery the
rollout ends, and no completed fence restart lacks its audit row."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from rq import Worker

from images.models.rollout import Rollout, RolloutStatus
from images.rollouts import recover
from nodes.models import FenceRestart
from sandbox import knobs, layout
from stackato_dash import queueing
from support.rq import run_queued_jobs

from .conftest import push_version
from .test_rollouts import STRATEGY, fence

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    """The test database, for a worker in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(settings) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url(), SSH_PRIVATE_KEY_PATH=str(settings.SSH_PRIVATE_KEY_PATH),
               SSH_CONNECT_TIMEOUT="3", SSH_COMMAND_TIMEOUT="30")
    return subprocess.Popen([sys.executable, "manage.py", "rqworker", "default"], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_a_killed_worker_mid_rollout_is_recovered(admin_client, rollout_sandbox, cluster, settings, worker_alive):
    version = push_version(rollout_sandbox, cluster, "2.0.0")
    # The canary's restart takes a while: the worker is killed during it.
    canary = layout.deas(rollout_sandbox)[0]
    knobs.apply(Path(rollout_sandbox["state_dir"]), canary["name"], "restart-delay", "3")
    worker_alive.register_death()  # from here a real worker process carries the jobs
    worker = start_worker(settings)
    try:
        deadline = time.monotonic() + 60
        while not Worker.all(queue=queueing.get_queue()):
            assert time.monotonic() < deadline, "the rqworker did not register"
            time.sleep(0.2)
        response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
            "action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY})
        assert response.status_code == 302, response.content[-2000:]
        rollout = Rollout.objects.get()
        while not rollout.steps.filter(phase="restart", status="running").exists():
            assert time.monotonic() < deadline, rollout.steps.values_list("phase", "status")
            time.sleep(0.2)
        time.sleep(1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVATING  # left mid-flight by the kill
    assert rollout.steps.filter(status="running").exists()

    report = recover.recover()
    assert any("re-queued" in line for line in report)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert "lost with their worker" in rollout.decisions
    for entry in layout.deas(rollout_sandbox):
        assert fence(rollout_sandbox, entry["name"]) == ("RUNNING", version.registry_reference)
        rows = FenceRestart.objects.filter(correlation_id=rollout.pk, node_address=entry["address"], outcome="succeeded")
        assert rows.count() >= 1, f"no audit row for the restart of {entry['name']}"
