"""kato across nodes: status, -n targeting, the down knob; the RESP client fence uses."""
import json
import re

import pytest

from sandbox.nodeside import faults
from sandbox.nodeside.resp import RespClient, RespError

FENCE_LINE = re.compile(r"fence RUNNING pid (\d+), image (\S+), started "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_status_lists_every_node_and_its_processes(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    r = sb.kato("core", "status")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert [l for l in lines if not l.startswith("  ")] == ["127.0.0.11", "127.0.0.12",
                                                            "127.0.0.13"]
    dea1 = lines[lines.index("127.0.0.12") + 1:lines.index("127.0.0.13")]
    assert dea1[0] == "  dea_ng RUNNING" and dea1[3] == "  apptail RUNNING"
    match = FENCE_LINE.match(dea1[2].strip())
    assert match and int(match.group(1)) == sb.fence_info("dea1")["pid"]

    report = json.loads(sb.kato("core", "status", "--json").stdout)
    assert list(report) == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
    fence = [p for p in report["127.0.0.13"]["processes"] if p["name"] == "fence"][0]
    assert fence["state"] == "RUNNING" and fence["pid"] == sb.fence_info("dea2")["pid"]
    assert report["127.0.0.11"]["roles"] == ["primary", "controller", "router"]


def test_dash_n_targets_another_node(nodeside_cluster):
    sb = nodeside_cluster("3.0")
    dea1_pid, dea2_pid = sb.fence_info("dea1")["pid"], sb.fence_info("dea2")["pid"]
    listed = sb.kato("core", "process", "list", "-n", "127.0.0.13").stdout
    assert f"fence RUNNING pid {dea2_pid}," in listed
    r = sb.kato("core", "process", "restart", "fence", "-n", "127.0.0.13")
    assert (r.returncode, r.stdout) == (0, "fence: stopped\nfence: started\n")
    assert sb.fence_info("dea2")["pid"] != dea2_pid
    assert sb.fence_info("dea1")["pid"] == dea1_pid


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
    assert "fence RUNNING" in sb.kato("core", "process", "list", "-n", "127.0.0.12").stdout


def test_resp_client_reads_and_subscribes(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)
    host, port = sb.redis_info["host"], sb.redis_info["port"]
    client = RespClient(host, port)
    sub = RespClient(host, port)
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
