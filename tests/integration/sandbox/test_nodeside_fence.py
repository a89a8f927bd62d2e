"""fence under a real supervisord: restarts, missing images, fault knobs, versions."""
from pathlib import Path

from sandbox.nodeside import config_store, faults, fence_status, supervisor_conf
from support.kato_reading import fence_state
from support.waiting import wait_until

BASE = config_store.BASE_IMAGE
OTHER = "exampleco/newimg:1.0.0"  # in the test engine too (see conftest.dockerd)


def kato_fence(sb, node):
    """fence's state as `kato process list` on the node shows it."""
    return fence_state(sb.kato(node, "process", "list").stdout)


def running(sb, node):
    """(pid, image) of the fence running now, from inside the emulator
    (supervisord's pid joined with fence.json): the tests' ground truth."""
    status = fence_status.read(sb.cluster, sb.node(node))
    return status["pid"], status["image"]


def listening_fences(sb) -> int:
    """How many fences are subscribed to the config's change channel: a 3.0
    fence never is (it reads the image only when it starts), a 3.0.1+ one is."""
    channel = config_store.channel("fence")
    return dict(sb.redis().pubsub_numsub(channel))[channel]


def fence_log_has(sb, node, text) -> bool:
    return text in (Path(sb.node(node)["dir"]) / "fence.log").read_text()


def set_image(sb, image):
    r = sb.kato("core", "config", "set", "fence", "docker/image", image)
    assert r.stdout == f"WARNING: Assumed type string\n{image}\n"


def test_restart_changes_pid_and_image(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    before = sb.fence_info("dea1")
    assert kato_fence(sb, "dea1") == "RUNNING"
    assert running(sb, "dea1") == (before["pid"], BASE)
    # 3.0: fence reads the image only when it starts; no fence hears the change
    assert listening_fences(sb) == 0
    set_image(sb, OTHER)
    assert running(sb, "dea1") == (before["pid"], BASE)

    r = sb.kato("dea1", "process", "restart", "fence")
    assert (r.returncode, r.stdout, r.stderr) == (0, "fence: stopped\nfence: started\n", "")
    after = sb.fence_info("dea1")
    assert after["statename"] == "RUNNING" and after["pid"] != before["pid"]
    assert kato_fence(sb, "dea1") == "RUNNING" and running(sb, "dea1") == (after["pid"], OTHER)
    assert sb.fence_json("dea1")["pid"] == after["pid"]
    # the other DEA was not restarted and still runs the old image
    assert running(sb, "dea2")[1] == BASE


def test_missing_image_leaves_fence_fatal(nodeside_cluster):
    for version, code in (("3.0", 0), ("3.4.1", 1)):
        sb = nodeside_cluster(version, docker=True)
        key = "docker/images" if version == "3.4.1" else "docker/image"
        value = '["missing/image:9"]' if version == "3.4.1" else "missing/image:9"
        sb.kato("core", "config", "set", "fence", key, value)
        if version == "3.4.1":  # follows changes: both DEAs restart by themselves and fail
            sb.wait_fence("dea1", "FATAL")
            sb.wait_fence("dea2", "FATAL")
        else:
            r = sb.kato("dea1", "process", "restart", "fence")
            assert (r.returncode, r.stdout, r.stderr) == (
                code, "fence: stopped\n", "fence: ERROR (spawn error)\n")
        assert kato_fence(sb, "dea1") == "FATAL"
        log = (Path(sb.node("dea1")["dir"]) / "fence.log").read_text()
        assert "image missing/image:9 is not in the engine" in log
        # a FATAL fence is started again (no "stopped" line) once the image is right
        sb.kato("core", "config", "set", "fence", key,
                f'["{OTHER}"]' if version == "3.4.1" else OTHER)
        r = sb.kato("dea1", "process", "restart", "fence")
        assert (r.returncode, r.stdout) == (0, "fence: started\n")
        assert running(sb, "dea1")[1] == OTHER
        if version == "3.4.1":
            r = sb.kato("dea2", "process", "restart", "fence")
            assert (r.returncode, r.stdout) == (0, "fence: started\n")


def test_fail_restarts_fails_the_next_n_starts(nodeside_cluster):
    sb = nodeside_cluster("3.4.1")
    faults.write(sb.node("dea1")["dir"], fail_restarts=2)
    first = sb.kato("dea1", "process", "restart", "fence")
    assert (first.returncode, first.stdout, first.stderr) == (
        1, "fence: stopped\n", "fence: ERROR (spawn error)\n")
    assert kato_fence(sb, "dea1") == "FATAL"
    second = sb.kato("dea1", "process", "restart", "fence")
    assert (second.returncode, second.stdout) == (1, "")
    third = sb.kato("dea1", "process", "restart", "fence")
    assert (third.returncode, third.stdout) == (0, "fence: started\n")
    assert kato_fence(sb, "dea1") == "RUNNING"
    assert faults.read(sb.node("dea1")["dir"])["fail_restarts"] == 0


def test_restart_delay_holds_fence_in_stopping(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    faults.write(sb.node("dea1")["dir"], restart_delay=2.5)
    old_pid = sb.fence_info("dea1")["pid"]
    restart = sb.kato_popen("dea1", "process", "restart", "fence")
    sb.wait_fence("dea1", "STOPPING", timeout=5)
    assert kato_fence(sb, "dea1") == "STOPPING" and sb.fence_info("dea1")["pid"] == old_pid
    assert fence_log_has(sb, "dea1", f"fence[{old_pid}]: stopping in 2.5s (restart_delay knob)")
    out, err = restart.communicate(timeout=30)
    assert (restart.returncode, out) == (0, "fence: stopped\nfence: started\n")
    assert sb.fence_info("dea1")["pid"] != old_pid


def test_hang_blocks_the_restart_until_turned_off(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    node_dir = sb.node("dea1")["dir"]
    faults.write(node_dir, hang=True)
    old_pid = sb.fence_info("dea1")["pid"]
    restart = sb.kato_popen("dea1", "process", "restart", "fence")
    try:
        sb.wait_fence("dea1", "STOPPING", timeout=5)
        wait_until(lambda: fence_log_has(sb, "dea1", f"fence[{old_pid}]: not stopping while the hang knob is on"),
                   "fence to hang on its knob")
        assert restart.poll() is None  # still waiting for fence to stop
        assert sb.fence_info("dea1")["statename"] == "STOPPING"
        faults.write(node_dir, hang=False)
        out, err = restart.communicate(timeout=30)
    finally:
        if restart.poll() is None:
            restart.kill()
            restart.wait()
    assert (restart.returncode, out, err) == (0, "fence: stopped\nfence: started\n", "")
    assert sb.fence_info("dea1")["pid"] != old_pid


def test_301_fence_restarts_itself_on_a_config_change(nodeside_cluster):
    sb = nodeside_cluster("3.0.1")
    pids = {n: sb.fence_info(n)["pid"] for n in ("dea1", "dea2")}
    assert listening_fences(sb) == 2
    set_image(sb, OTHER)
    for node in ("dea1", "dea2"):
        info = sb.wait_fence(node, "RUNNING", other_than_pid=pids[node])
        assert running(sb, node) == (info["pid"], OTHER)


def test_30_fence_ignores_config_changes(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    pid = sb.fence_info("dea1")["pid"]
    assert listening_fences(sb) == 0  # nothing that could hear the change, so nothing to wait for
    set_image(sb, OTHER)
    assert sb.fence_info("dea1")["pid"] == pid


def test_301_change_to_a_missing_image_takes_every_dea_down(nodeside_cluster):
    sb = nodeside_cluster("3.0.1", docker=True)
    set_image(sb, "missing/image:9")
    for node in ("dea1", "dea2"):
        sb.wait_fence(node, "FATAL")


def test_34_runs_the_first_of_docker_images(nodeside_cluster):
    sb = nodeside_cluster("3.4", docker=True)
    assert running(sb, "dea1")[1] == BASE
    pid = sb.fence_info("dea1")["pid"]
    r = sb.kato("core", "config", "set", "fence", "docker/images", f'["{OTHER}", "{BASE}"]')
    assert r.stdout == f"WARNING: Assumed type struct\n- {OTHER}\n- {BASE}\n"
    info = sb.wait_fence("dea1", "RUNNING", other_than_pid=pid)
    assert running(sb, "dea1") == (info["pid"], OTHER)


def test_stop_ends_a_hung_fence_and_its_supervisord(nodeside_cluster):
    sb = nodeside_cluster("3.0", deas=1)
    node = sb.node("dea1")
    faults.write(node["dir"], hang=True)
    fence_pid = sb.fence_info("dea1")["pid"]
    supervisord_pid = supervisor_conf.running(node)
    assert supervisor_conf.stop(node, timeout=2) is True
    assert supervisor_conf.running(node) is None
    for pid in (fence_pid, supervisord_pid):
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    # and it comes back
    supervisor_conf.start(sb.cluster, node)
    faults.reset(node["dir"])
    sb.wait_fence("dea1", "RUNNING")


def test_supervisord_serves_xml_rpc_on_the_node_address(nodeside_cluster):
    # As on a Stackato node (port 9001 there): pid, state and start time for the console.
    import xmlrpc.client

    sb = nodeside_cluster("3.0", deas=1)
    node = sb.node("dea1")
    proxy = xmlrpc.client.ServerProxy(f"http://{node['address']}:{node['supervisor_port']}/RPC2")
    info = proxy.supervisor.getProcessInfo("fence")
    assert (info["statename"], info["pid"]) == ("RUNNING", sb.fence_info("dea1")["pid"])
    assert 0 <= info["now"] - info["start"] < 600
