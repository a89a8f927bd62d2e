"""The sandbox behaves like a small Stackato 3.0 cluster, seen the way the
product will see it: over real SSH with host key checking on."""
import json
import socket
import stat
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest
import redis

from sandbox import config_redis, knobs
from sandbox.nodeside import config_store, fence_status
from sandbox.engines import BASE_IMAGE
from support import ssh
from sandbox.layout import node
from support.kato_reading import fence_state
from support.sandbox import wait_for_fence
from support.waiting import wait_until

PROJECT = Path(__file__).resolve().parents[2]


def run(sandbox, name, command, timeout=60):
    return ssh.run(node(sandbox, name), sandbox["client_key"], command, timeout=timeout)


def kato_fence(sandbox, name):
    """fence's state as `kato process list` over SSH shows it."""
    code, out, err = run(sandbox, name, "kato process list")
    assert code == 0, err
    return fence_state(out)


def fence_info(sandbox, name):
    """fence's state as kato's JSON gives it, with pid and image from inside the
    emulator (supervisord joined with fence.json): the tests' ground truth."""
    state = fence_state(run(sandbox, name, "kato process list --json")[1])
    return {**fence_status.read(sandbox, node(sandbox, name)), "state": state}


def add_image(sandbox, name, ref):
    """Give a node's engine another tag of the base image (no network needed)."""
    code, out, err = run(sandbox, name, f"docker tag {BASE_IMAGE} {ref}")
    assert code == 0, err


def test_every_node_reads_the_base_image(sandbox):
    for each in sandbox["nodes"]:
        code, out, err = run(sandbox, each["name"], "kato config get fence docker/image")
        assert (code, out, err) == (0, BASE_IMAGE + "\n", "")


def test_config_set_on_one_node_is_seen_on_all(sandbox):
    code, out, _ = run(sandbox, "dea2", "kato config set fence docker/image exampleco/newimg:1.0.0")
    assert out == "WARNING: Assumed type string\nexampleco/newimg:1.0.0\n"
    for each in sandbox["nodes"]:
        assert run(sandbox, each["name"], "kato config get fence docker/image")[1] == "exampleco/newimg:1.0.0\n"
    code, out, _ = run(sandbox, "core", "kato config get fence --json")
    assert json.loads(out) == {"docker": {"image": "exampleco/newimg:1.0.0"}}


def test_node_list_names_every_node_with_its_roles(sandbox):
    out = run(sandbox, "dea1", "kato node list")[1]
    assert out.splitlines() == [f"{n['address']} {' '.join(n['roles'])}" for n in sandbox["nodes"]]
    assert [line.split(" ")[0] for line in out.splitlines()] == [n["address"] for n in sandbox["nodes"]]


def test_restart_changes_the_pid_and_the_image_fence_runs(sandbox):
    before = fence_info(sandbox, "dea1")
    assert before["state"] == "RUNNING" and before["image"] == BASE_IMAGE
    add_image(sandbox, "dea1", "exampleco/newimg:1.0.0")
    run(sandbox, "core", "kato config set fence docker/image exampleco/newimg:1.0.0")
    # 3.0: a config change alone does not move a running fence.
    assert fence_info(sandbox, "dea1")["pid"] == before["pid"]
    code, out, err = run(sandbox, "dea1", "kato process restart fence")
    assert (code, out) == (0, "fence: stopped\nfence: started\n"), err
    after = fence_info(sandbox, "dea1")
    assert after["state"] == "RUNNING"
    assert after["pid"] != before["pid"]
    assert after["image"] == "exampleco/newimg:1.0.0"
    assert kato_fence(sandbox, "dea1") == "RUNNING"


def test_restart_on_another_node_with_dash_n(sandbox):
    before = fence_info(sandbox, "dea3")
    run(sandbox, "core", f"kato process restart fence -n {node(sandbox, 'dea3')['address']}")
    assert fence_info(sandbox, "dea3")["pid"] != before["pid"]


def test_an_image_the_node_lacks_leaves_fence_fatal(sandbox):
    run(sandbox, "core", "kato config set fence docker/image exampleco/missing:9.9.9")
    code, out, err = run(sandbox, "dea2", "kato process restart fence")
    assert code == 0  # 3.0 exits 0 even on failure: callers must verify
    assert "fence: ERROR" in out + err
    assert kato_fence(sandbox, "dea2") == "FATAL"


def test_unknown_process_and_missing_key_say_so_but_exit_zero_on_3_0(sandbox):
    code, out, err = run(sandbox, "dea1", "kato process restart nosuchthing")
    assert code == 0 and "nosuchthing: ERROR (no such process)" in err
    code, out, err = run(sandbox, "dea1", "kato config get fence docker/nope")
    assert code == 0 and out == "" and "key docker/nope not found in fence" in err


def test_restart_delay_knob_holds_fence_in_stopping(sandbox):
    knobs.apply(Path(sandbox["state_dir"]), "dea1", "restart-delay", "2")
    dea1 = node(sandbox, "dea1")
    old_pid = fence_status.read(sandbox, dea1)["pid"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        restart = pool.submit(run, sandbox, "dea1", "kato process restart fence")
        # The restart is under way, held by the knob: the old fence is stopping and says why.
        stopping = wait_until(lambda: (status := fence_status.read(sandbox, dea1))["state"] == "STOPPING" and status,
                              "fence on dea1 to be STOPPING")
        assert stopping["pid"] == old_pid and not restart.done()
        log = Path(dea1["dir"]) / "fence.log"
        wait_until(lambda: f"fence[{old_pid}]: stopping in 2s (restart_delay knob)" in log.read_text(),
                   "the restart_delay knob's line in fence.log")
        code, out, err = restart.result(timeout=60)
    assert (code, out) == (0, "fence: stopped\nfence: started\n"), err
    assert fence_status.read(sandbox, dea1)["pid"] != old_pid


def test_fail_restarts_knob_fails_exactly_the_next_n(sandbox):
    knobs.apply(Path(sandbox["state_dir"]), "dea2", "fail-restarts", "1")
    run(sandbox, "dea2", "kato process restart fence")
    assert kato_fence(sandbox, "dea2") == "FATAL"
    run(sandbox, "dea2", "kato process restart fence")
    assert fence_info(sandbox, "dea2")["state"] == "RUNNING"


def test_hang_knob_blocks_the_restart_until_cleared(sandbox):
    knobs.apply(Path(sandbox["state_dir"]), "dea3", "hang", "on")
    with pytest.raises(socket.timeout):
        run(sandbox, "dea3", "kato process restart fence", timeout=3)
    assert fence_info(sandbox, "dea3")["state"] == "STOPPING"
    knobs.apply(Path(sandbox["state_dir"]), "dea3", "hang", "off")
    # The interrupted restart never got to start fence again: it stays
    # STOPPED until someone restarts it, as on a real node.
    assert wait_for_fence(sandbox, node(sandbox, "dea3"), None, timeout=15, state="STOPPED")
    run(sandbox, "dea3", "kato process restart fence")
    assert fence_info(sandbox, "dea3")["state"] == "RUNNING"


def test_down_knob_makes_the_node_unreachable_until_up(sandbox):
    dea1 = node(sandbox, "dea1")
    knobs.apply(Path(sandbox["state_dir"]), "dea1", "down")
    with pytest.raises((paramiko.ssh_exception.NoValidConnectionsError, OSError)):
        ssh.connect(dea1, sandbox["client_key"])
    code, out, err = run(sandbox, "core", f"kato process restart fence -n {dea1['address']}")
    assert f"node {dea1['address']} unreachable" in err
    knobs.apply(Path(sandbox["state_dir"]), "dea1", "up")
    assert run(sandbox, "dea1", "true")[0] == 0


def test_rotated_host_key_is_refused_by_a_client_that_pinned_the_old_one(sandbox, tmp_path):
    dea2 = node(sandbox, "dea2")
    pinned = tmp_path / "pinned.pub"
    pinned.write_text((Path(dea2["dir"]) / "ssh_host_ed25519_key.pub").read_text())
    knobs.apply(Path(sandbox["state_dir"]), "dea2", "rotate-host-key")
    with pytest.raises(paramiko.BadHostKeyException):
        ssh.connect(dea2, sandbox["client_key"], host_key_file=pinned)
    assert run(sandbox, "dea2", "true")[0] == 0  # the new key is what the sandbox reports


def test_image_pushed_to_the_registry_pulls_inside_a_dea_session(sandbox):
    registry = f"{sandbox['registry']['host']}:{sandbox['registry']['port']}"
    ref = f"{registry}/exampleco/newimg:1.0.0"
    code, out, err = run(sandbox, "core", f"docker tag {BASE_IMAGE} {ref} && docker push {ref}")
    assert code == 0, err
    code, out, err = run(sandbox, "dea3", f"docker pull {ref} && docker image inspect --format '{{{{.Id}}}}' {ref}")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("sha256:")


def test_registry_knob_stops_and_starts_the_registry(sandbox):
    url = f"http://{sandbox['registry']['host']}:{sandbox['registry']['port']}/v2/"
    knobs.apply(Path(sandbox["state_dir"]), "registry", "down")
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)
    code, _, err = run(sandbox, "dea1", f"docker pull {sandbox['registry']['host']}:5000/x/y:1")
    assert code != 0 and "connection refused" in err.lower()
    knobs.apply(Path(sandbox["state_dir"]), "registry", "up")
    assert urllib.request.urlopen(url, timeout=2).status == 200


def test_a_node_session_has_its_own_empty_home(sandbox):
    # Not the machine's: bash run by sshd sources ~/.bashrc, and a developer's
    # (pyenv init) would run before every command, as on no DEA.
    code, out, err = run(sandbox, "dea1", 'echo "$HOME"; ls -A "$HOME"')
    assert code == 0, err
    assert out.splitlines() == [str(Path(node(sandbox, "dea1")["dir"]) / "home")]


def test_sftp_subsystem_is_on(sandbox):
    client = ssh.connect(node(sandbox, "dea1"), sandbox["client_key"])
    try:
        assert "ssh_host_ed25519_key.pub" in client.open_sftp().listdir(node(sandbox, "dea1")["dir"])
    finally:
        client.close()


def test_status_json_tells_scripts_how_to_reach_every_node(sandbox):
    out = subprocess.run([sys.executable, "manage.py", "sandbox", "--state-dir", sandbox["state_dir"], "status", "--json"],
                         cwd=PROJECT, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    assert report["registry"]["location"] == f"{sandbox['registry']['host']}:5000"
    assert report["config_redis"]["location"] == f"{sandbox['config_redis']['host']}:7474"
    assert [n["name"] for n in report["nodes"]] == ["core", "dea1", "dea2", "dea3"]
    for entry in report["nodes"]:
        expected = subprocess.run(["ssh-keygen", "-lf", str(Path(node(sandbox, entry["name"])["dir"]) / "ssh_host_ed25519_key.pub")],
                                  check=True, capture_output=True, text=True).stdout.split()[1]
        assert entry["host_key_fingerprint"] == expected
        assert entry["private_key"] == sandbox["client_key"]
        assert entry["ssh_user"] == "root" and entry["ssh_port"] == 2222
    assert [(n["name"], n["fence"]["state"]) for n in report["nodes"] if "dea" in n["roles"]] == [
        ("dea1", "RUNNING"), ("dea2", "RUNNING"), ("dea3", "RUNNING")]


def test_config_redis_requires_its_password(sandbox):
    """A Redis the project starts: a client without the password is refused,
    and the password is in a 0600 file, not on redis-server's command line."""
    where = sandbox["config_redis"]
    for password in (None, "guess"):
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host=where["host"], port=where["port"], password=password, socket_timeout=5).ping()
    password_file = Path(where["password_file"])
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert config_store.connect(sandbox).ping()
    pid = config_redis.running(sandbox)
    assert pid, "config_redis is not running"
    assert password_file.read_text().strip() not in Path(f"/proc/{pid}/cmdline").read_text()
