"""A real `manage.py rqworker` in its own process, on the test database:
for tests where the jobs must run while something else (a killed worker, a
polling browser) happens in the test process."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from rq import Worker

from stackato_dash import queueing

PROJECT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, for a worker in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(queue: str = queueing.QUEUE, **extra_env: str) -> subprocess.Popen:
    """With RQ's scheduler, as every worker runs: it runs the job reconciler
    (default queue) and moves a notification's retries back to its queue.
    Rollout notifications need a worker of their own: start_worker(queueing.NOTIFICATIONS)."""
    env = dict(os.environ, DATABASE_URL=database_url(), SSH_PRIVATE_KEY_PATH=str(settings.SSH_PRIVATE_KEY_PATH),
               SSH_CONNECT_TIMEOUT="3", SSH_COMMAND_TIMEOUT="30", **extra_env)
    return subprocess.Popen([sys.executable, "manage.py", "rqworker", "--with-scheduler", queue], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_until_registered(*workers: subprocess.Popen, timeout: float = 90) -> None:
    """Until each of these worker processes is registered with RQ. Found by
    pid, not counted: a worker another test SIGKILLed stays listed until RQ's
    TTL (420 s) ends its key, and would pass for one of these."""
    pids = {worker.pid for worker in workers}
    deadline = time.monotonic() + timeout
    connection = queueing.get_queue().connection
    while not pids <= {worker.pid for worker in Worker.all(connection=connection)}:
        assert time.monotonic() < deadline, f"rqworker(s) {sorted(pids)} did not register within {timeout} s"
        time.sleep(0.2)


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and the work horse running its job: RQ's horse
    calls os.setpgrp(), so killing the worker's process group alone leaves
    the job running to its end."""
    horses = _descendants(worker.pid)
    os.killpg(worker.pid, signal.SIGKILL)
    for pid in horses:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait()
