"""kato versions the sandbox emulates, and that `sandbox down` leaves nothing
behind. Small clusters without Docker engines (fence then takes every image
as present), each on its own loopback range."""
import json
import subprocess
import time

import pytest

from sandbox import layout
from sandbox.nodeside import fence_status
from support import ssh
from support.sandbox import running_sandbox


def run(cluster, name, command):
    return ssh.run(layout.node(cluster, name), cluster["client_key"], command)


def fence(cluster, name):
    """fence's state, pid and image from inside the emulator (supervisord joined
    with fence.json): kato, like the real one, shows only the state."""
    state = json.loads(run(cluster, name, "kato process list --json")[1])["fence"]
    status = fence_status.read(cluster, layout.node(cluster, name))
    return {**status, "state": state}


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture(scope="module")
def cluster_3_0_1():
    with running_sandbox("127.0.4.11", dea_count=2, kato_version="3.0.1", docker=False) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def cluster_3_4_1():
    with running_sandbox("127.0.5.11", dea_count=1, kato_version="3.4.1", docker=False) as cluster:
        yield cluster


def test_3_0_1_fence_restarts_on_every_dea_when_the_config_changes(cluster_3_0_1):
    before = {name: fence(cluster_3_0_1, name)["pid"] for name in ("dea1", "dea2")}
    run(cluster_3_0_1, "core", "kato config set fence docker/image exampleco/newimg:2.0.0")

    def all_moved():
        now = {name: fence(cluster_3_0_1, name) for name in before}
        return all(p["state"] == "RUNNING" and p["pid"] != before[n] and p["image"] == "exampleco/newimg:2.0.0"
                   for n, p in now.items())
    assert wait_for(all_moved), {name: fence(cluster_3_0_1, name) for name in before}


def test_3_4_keeps_a_list_under_docker_images(cluster_3_4_1):
    code, out, err = run(cluster_3_4_1, "core", "kato config get fence docker/images")
    assert code == 0, err
    assert out == "- stackato/app-holophonor:3.0.0\n"
    code, out, err = run(cluster_3_4_1, "dea1", "kato config get fence docker/images --json")
    assert json.loads(out) == ["stackato/app-holophonor:3.0.0"]
    code, out, err = run(cluster_3_4_1, "core",
                         """kato config set fence docker/images '["exampleco/newimg:3.0.0", "stackato/app-holophonor:3.0.0"]'""")
    assert code == 0, err
    assert out == "WARNING: Assumed type struct\n- exampleco/newimg:3.0.0\n- stackato/app-holophonor:3.0.0\n"
    assert wait_for(lambda: fence(cluster_3_4_1, "dea1")["image"] == "exampleco/newimg:3.0.0")


def test_3_4_1_exits_non_zero_on_failure(cluster_3_4_1):
    code, out, err = run(cluster_3_4_1, "dea1", "kato config get fence docker/nope")
    assert code != 0 and "not found" in err
    code, out, err = run(cluster_3_4_1, "dea1", "kato process restart nosuchthing")
    assert code != 0 and "no such process" in err
    code, out, err = run(cluster_3_4_1, "dea1", "kato frobnicate")
    assert code != 0 and "usage" in err.lower()


def listeners(prefix: str) -> list[str]:
    out = subprocess.run(["ss", "-Hltn"], check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f" {prefix}" in line]


def test_down_stops_everything_it_started():
    with running_sandbox("127.0.6.11", dea_count=1, docker=True) as cluster:
        # 2 sshd, the registry, config_redis, the DEA's supervisord (XML-RPC on :9001)
        assert len(listeners("127.0.6.")) == 5
        assert listeners("127.0.6.12:9001")
        pids = subprocess.run(["pgrep", "-f", cluster["state_dir"]], capture_output=True, text=True).stdout.split()
        assert pids  # sshd, dockerd, supervisord, fence, registry, redis
    assert listeners("127.0.6.") == []
    leftover = subprocess.run(["pgrep", "-f", cluster["state_dir"]], capture_output=True, text=True).stdout.split()
    assert leftover == []
