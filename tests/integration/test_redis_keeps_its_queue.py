"""The Redis the project starts (scripts/redis.sh) keeps its data in an
append-only file: a job queued before a Redis restart is still queued after."""
import secrets
import subprocess

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from support.demo import REPO, demo_env, free_port


@pytest.fixture
def project_redis(tmp_path):
    env = demo_env(tmp_path / "var")
    password, port = secrets.token_urlsafe(18), free_port()
    env["REDIS_URL"] = f"redis://:{password}@127.0.0.1:{port}/0"

    def redis_sh(action: str) -> None:
        done = subprocess.run(["bash", str(REPO / "scripts" / "redis.sh"), action], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr

    redis_sh("start")
    try:
        yield redis_sh, (lambda: Redis(host="127.0.0.1", port=port, password=password))
    finally:
        redis_sh("stop")


def test_a_queued_job_survives_a_redis_restart(project_redis):
    redis_sh, connect = project_redis
    assert connect().config_get("appendonly") == {"appendonly": "yes"}
    queue = Queue("default", connection=connect(), serializer=JSONSerializer)
    job = queue.enqueue("images.jobs.build_image_version", 42, description="Build exampleco/app:1")

    redis_sh("stop")  # SIGTERM: Redis writes its append-only file out before it exits
    redis_sh("start")

    again = Queue("default", connection=connect(), serializer=JSONSerializer)
    assert again.job_ids == [job.id]
    kept = again.fetch_job(job.id)
    assert (kept.func_name, kept.args, kept.description) == ("images.jobs.build_image_version", [42],
                                                             "Build exampleco/app:1")
