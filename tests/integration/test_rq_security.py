"""Nothing written into Redis runs code as the worker (issue 12, found 2).

The Redis requires a password, and the workers read jobs as JSON only: a
job whose data is a pickle that would create a file when unpickled, pushed
into the queue by hand next to a genuine job, is picked up by a real
`manage.py rqworker` / `rqworker-pool`, fails to load, lands in the failed
registry, and the file never appears; the genuine job still runs."""
import json
import os
import pickle
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import django_rq
import pytest
import redis
from django.conf import settings
from rq.job import Job
from rq.registry import FailedJobRegistry

from images.rollouts import jobs

PROJECT = Path(__file__).resolve().parents[2]


class CreatesMarker:
    """Unpickling this opens (so creates) the marker file: code run by pickle.loads."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def queue():
    queue = django_rq.get_queue("default")
    queue.empty()
    FailedJobRegistry(queue=queue).cleanup(-1)
    yield queue
    queue.empty()


def push_pickled_job(connection, queue_name: str, marker: Path) -> str:
    """What anyone able to write to Redis could do: a job hash in RQ's format
    whose data is a pickle, and its id on the queue's list."""
    job_id = str(uuid.uuid4())
    data = pickle.dumps(("os.path.join", None, (CreatesMarker(marker),), {}))
    connection.hset(f"rq:job:{job_id}", mapping={
        "data": zlib.compress(data), "origin": queue_name, "status": "queued",
        "created_at": "2026-01-01T00:00:00.000000Z", "enqueued_at": "2026-01-01T00:00:00.000000Z",
        "description": "planted", "timeout": 60,
    })
    connection.sadd("rq:queues", f"rq:queue:{queue_name}")
    connection.rpush(f"rq:queue:{queue_name}", job_id)
    return job_id


@pytest.mark.parametrize("command", [
    ["rqworker", "--burst", "default"],
    ["rqworker-pool", "--burst", "--num-workers", "1", "default"],
])
def test_a_pickled_job_pushed_into_redis_never_runs(queue, tmp_path, command):
    marker = tmp_path / "pickle-ran"
    genuine = queue.enqueue("os.path.join", "var", "sandbox")
    planted = push_pickled_job(queue.connection, queue.name, marker)
    # The planted pickle is real: loading it the way a pickle worker would creates the marker.
    assert not marker.exists()

    worker = subprocess.run([sys.executable, "manage.py", *command], cwd=PROJECT, env=os.environ.copy(),
                            capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr[-3000:]

    assert not marker.exists(), "the worker unpickled the planted job"
    genuine.refresh()
    assert genuine.is_finished and genuine.return_value() == os.path.join("var", "sandbox")
    failed = FailedJobRegistry(queue=queue)
    assert planted in failed.get_job_ids(), f"the planted job did not fail cleanly: {worker.stderr[-3000:]}"
    assert queue.count == 0
    # The job hash itself is still JSON-only to read: its stored error names the refusal.
    planted_job = Job.fetch(planted, connection=queue.connection, serializer=queue.serializer)
    error = planted_job.latest_result().exc_string
    assert "DeserializationError" in error, error
    assert not marker.exists()


def plant_abandoned_job(connection, queue_name: str, marker: Path) -> str:
    """A job hash whose meta (loaded as soon as the hash is read) is a pickle,
    listed in the queue's started registry as long expired: a worker's
    registry cleanup reads every such job when it starts."""
    job_id = str(uuid.uuid4())
    connection.hset(f"rq:job:{job_id}", mapping={
        "data": zlib.compress(json.dumps(["os.path.join", None, ["a", "b"], {}]).encode()),
        "meta": pickle.dumps(CreatesMarker(marker)), "origin": queue_name, "status": "started",
        "created_at": "2026-01-01T00:00:00.000000Z", "description": "planted", "timeout": 60,
    })
    connection.sadd("rq:queues", f"rq:queue:{queue_name}")
    connection.zadd(f"rq:wip:{queue_name}", {f"{job_id}:planted": 1})
    return job_id


@pytest.mark.parametrize("command", [
    ["rqworker", "--burst", "default"],
    ["rqworker-pool", "--burst", "--num-workers", "1", "default"],
])
def test_a_pickle_in_an_abandoned_jobs_meta_never_runs(queue, tmp_path, command):
    marker = tmp_path / "pickle-ran"
    planted = plant_abandoned_job(queue.connection, queue.name, marker)
    worker = subprocess.run([sys.executable, "manage.py", *command], cwd=PROJECT, env=os.environ.copy(),
                            capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr[-3000:]
    # The planted entry only: a job of a worker another test killed is there until its own expiry.
    in_progress = queue.connection.zrange(f"rq:wip:{queue.name}", 0, -1)
    assert f"{planted}:planted".encode() not in in_progress, "the worker's cleanup did not reach the job"
    assert not marker.exists(), "a worker unpickled the planted job's meta"


def test_pickle_serializer_check_is_not_vacuous(tmp_path):
    """The planted payload does create the marker when unpickled."""
    marker = tmp_path / "pickle-ran"
    pickle.loads(pickle.dumps(CreatesMarker(marker))).close()  # noqa: S301 - this test shows what unpickling does
    assert marker.exists()


def test_redis_refuses_a_client_without_the_password(queue):
    url = urlsplit(settings.REDIS_URL)
    assert url.password, "REDIS_URL carries no password"
    anonymous = redis.Redis(host=url.hostname, port=url.port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    wrong = redis.Redis(host=url.hostname, port=url.port, password="not-" + url.password, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()
    assert queue.connection.ping()


@pytest.mark.django_db  # enqueueing may record the job's row first
def test_the_queue_stores_json_and_a_rollout_id_goes_in_as_a_string(queue, django_capture_on_commit_callbacks):
    assert queue.serializer.__name__ == "JSONSerializer"
    rollout_id = uuid.uuid4()
    # django-rq puts the job in Redis when the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue_advance(rollout_id)
    (job,) = [job for job in queue.jobs if job.func_name == "images.rollouts.jobs.advance_rollout"]
    assert job.func_name == "images.rollouts.jobs.advance_rollout"
    assert job.args == [str(rollout_id)]
    stored = queue.connection.hget(job.key, "data")
    assert json.loads(zlib.decompress(stored)) == ["images.rollouts.jobs.advance_rollout", None, [str(rollout_id)], {}]


def test_no_page_shows_the_redis_password(admin_client, queue):
    password = urlsplit(settings.REDIS_URL).password
    port = str(urlsplit(settings.REDIS_URL).port)
    for url, shows_connection in (("/admin/", False), ("/admin/django_rq/dashboard/", False),
                                  ("/admin/django_rq/dashboard/queues/0/details/", True),
                                  ("/admin/django_rq/dashboard/stats.json/", True)):
        page = admin_client.get(url, follow=True)
        assert page.status_code == 200, url
        assert password not in page.content.decode(), f"{url} shows the Redis password"
        # Pages that do show the connection (host, port) were looked at, not an error page.
        assert not shows_connection or port in page.content.decode(), url
