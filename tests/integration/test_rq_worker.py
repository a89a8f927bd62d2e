"""django-rq is wired to REDIS_URL: a job enqueued by the app is run by a real
`manage.py rqworker` process and its result comes back through Redis."""
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import django_rq
import pytest
from django.conf import settings

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue():
    queue = django_rq.get_queue("default")
    try:
        queue.connection.ping()
    except Exception as error:  # noqa: BLE001
        # Host and port only: REDIS_URL carries the password.
        where = urlsplit(settings.REDIS_URL)
        pytest.fail(f"the Redis at {where.hostname}:{where.port} (REDIS_URL) does not answer ({error}); "
                    "`make test` starts it")
    queue.empty()
    yield queue
    queue.empty()


def test_a_real_worker_runs_an_enqueued_job(queue):
    job = queue.enqueue("os.path.join", "var", "sandbox")
    subprocess.run([sys.executable, "manage.py", "rqworker", "--burst", "default"],
                   cwd=PROJECT, env=os.environ.copy(), check=True, capture_output=True, timeout=120)
    job.refresh()
    assert job.is_finished
    assert job.return_value() == os.path.join("var", "sandbox")
