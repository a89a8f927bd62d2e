"""A job in the one lifecycle that holds its worker until the test releases
it (a file appears), for tests with real worker processes. A worker imports
it as support.held_job: start it with PYTHONPATH=tests (worker_env())."""
import threading
from pathlib import Path

from job_runs import lifecycle
from support.worker_process import PROJECT

HOLD_AT_MOST = 300  # seconds: a test that forgets to release it does not hold a worker for ever


def worker_env() -> dict:
    return {"PYTHONPATH": str(PROJECT / "tests")}


@lifecycle.job()
def hold(release_path: str) -> None:
    release, waiting = Path(release_path), threading.Event()
    for _ in range(HOLD_AT_MOST * 5):
        if release.exists():
            return
        waiting.wait(0.2)  # polls the file the test writes
