"""kato across nodes: status, -n targeting, the down knob; the RESP client fence uses."""
import json

import pytest

from sandbox.nodeside import config_store, faults
from sandbox.nodeside.resp import RespClient, RespError
from support.kato_reading import process_states



def test_status_lists_every_node_and_its_processes(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    r = sb.kato("core", "status")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert [line for line in lines if not line.startswith("  ")] == ["127.0.0.11", "127.0.0.12",
                                                            "127.0.0.13"]
    dea1 = lines[lines.index("127.0.0.12") + 1:lines.index("127.0.0.13")]
    # names and states only, indented under their node
    assert [line.split() for line in dea1] == [["dea_ng", "RUNNING"], ["dir_server", "RUNNING"],
                                               ["fence", "RUNNING"], ["apptail", "RUNNING"]]
    assert all(line.startswith("  ") for line in dea1)

    report = json.loads(sb.kato("core", "status", "--json").stdout)
    assert list(report) == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
    assert report["127.0.0.13"]["processes"] == {"dea_ng": "RUNNING", "dir_server": "RUNNING",
                                                 "fence": "RUNNING", "apptail": "RUNNING"}
    assert report["127.0.0.11"]["roles"] == ["primary", "controller", "router"]


def states(result):
    return process_states(result.stdout)


def test_dash_n_targets_another_node(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    dea1_pid, dea2_pid = sb.fence_info("dea1")["pid"], sb.fence_info("dea2")["pid"]
    r = sb.kato("core", "process", "restart", "fence", "-n", "127.0.0.13")
    assert (r.returncode, r.stdout) == (0, "fence: stopped\nfence: started\n")
    assert sb.fence_info("dea2")["pid"] != dea2_pid
    assert sb.fence_info("dea1")["pid"] == dea1_pid
    # -n lists the named node: make the two differ in what kato shows of them
    faults.write(sb.node("dea2")["dir"], fail_restarts=1)
    sb.kato("core", "process", "restart", "fence", "-n", "127.0.0.13")
    assert states(sb.kato("core", "process", "list", "-n", "127.0.0.13"))["fence"] == "FATAL"
    assert states(sb.kato("core", "process", "list", "-n", "127.0.0.12"))["fence"] == "RUNNING"
    assert "fence" not in states(sb.kato("core", "process", "list"))  # the core runs no fence
    assert sb.kato("dea1", "process", "ready", "fence", "-n", "127.0.0.13").stdout == "NOT READY\n"
    assert sb.kato("core", "process", "ready", "fence", "-n", "127.0.0.12").stdout == "READY\n"


@pytest.mark.parametrize("version, code", [("3.4", 0), ("3.4.1", 1)])
def test_a_down_node_cannot_be_reached(nodeside_cluster, version, code):
    sb = nodeside_cluster(version, deas=1)
    faults.write(sb.node("dea1")["dir"], down=True)
    pid = sb.fence_info("dea1")["pid"]
    r = sb.kato("core", "process", "restart", "fence", "-n", "127.0.0.12")
    assert (r.returncode, r.stdout, r.stderr) == (
        code, "", "Error: node 127.0.0.12 unreachable\n")
    assert sb.fence_info("dea1")["pid"] == pid
    assert "127.0.0.12 unreachable" in sb.kato("core", "status").stdout.splitlines()
    faults.reset(sb.node("dea1")["dir"])
    assert ["fence", "RUNNING"] in [line.split() for line in
                                    sb.kato("core", "process", "list", "-n", "127.0.0.12").stdout.splitlines()]


def test_resp_client_reads_and_subscribes(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)
    host, port = sb.redis_info["host"], sb.redis_info["port"]
    password = config_store.password(sb.redis_info)
    client = RespClient(host, port, password=password)
    sub = RespClient(host, port, password=password)
    try:
        assert client.command("GET", "no-such-component") is None
        assert json.loads(client.command("GET", "cluster")) == {"endpoint": "api.stackato.local"}
        assert client.command("SET", "k", "é✓") == "OK" and client.command("GET", "k") == "é✓"
        with pytest.raises(RespError):
            client.command("NOSUCHCOMMAND")
        assert sub.command("SUBSCRIBE", "fence:_changes") == ["subscribe", "fence:_changes", 1]
        assert sub.wait_message(0.2) is None
        sb.kato("core", "config", "set", "fence", "docker/image", "a/b:1")
        assert sub.wait_message(5) == "docker/image"
    finally:
        client.close()
        sub.close()
