"""kato's command line without services: formats, usage errors, exit policy.

Calls kato.main() in-process; nothing here needs redis or supervisord
(`config` commands are covered by the integration tests).
"""
import json

import pytest

from sandbox.nodeside import faults, fence, kato, kato_process


@pytest.fixture
def make_sandbox_state(tmp_path, monkeypatch):
    """make_sandbox_state(version) -> a sandbox.json for kato to read (no services)."""
    def make(version="3.0"):
        nodes = [{"name": "core", "address": "127.0.0.11", "roles": ["primary", "controller",
                                                                    "router"],
                  "dir": str(tmp_path / "core"), "docker_host": None, "supervisor_socket": None},
                 {"name": "dea1", "address": "127.0.0.12", "roles": ["dea"],
                  "dir": str(tmp_path / "dea1"), "docker_host": None,
                  "supervisor_socket": str(tmp_path / "nothing-listens.sock")}]
        for node in nodes:
            (tmp_path / node["name"]).mkdir(exist_ok=True)
        data = {"id": "t", "state_dir": str(tmp_path), "kato_version": version,
                "config_redis": {"host": "127.0.0.1", "port": 1}, "docker": False,
                "nodes": nodes}
        (tmp_path / "sandbox.json").write_text(json.dumps(data))
        monkeypatch.setenv("SANDBOX_STATE", str(tmp_path))
        monkeypatch.setenv("SANDBOX_NODE", "core")
        return data
    return make


def run(capsys, *argv):
    code = kato.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info(make_sandbox_state, capsys):
    make_sandbox_state("3.0.1")
    assert run(capsys, "info") == (
        0, "address: 127.0.0.11\nname: core\nroles: primary controller router\n"
           "version: 3.0.1\n", "")
    code, out, _ = run(capsys, "info", "--json")
    assert json.loads(out) == {"address": "127.0.0.11", "name": "core",
                               "roles": ["primary", "controller", "router"], "version": "3.0.1"}


def test_static_processes_of_the_core(make_sandbox_state, capsys):
    make_sandbox_state()
    code, out, err = run(capsys, "process", "list")
    assert code == 0 and err == ""
    # names and states only, in columns; what real kato is known to print
    assert [line.split() for line in out.splitlines()] == [
        ["nats_server", "RUNNING"], ["config_redis", "RUNNING"], ["logyard", "RUNNING"], ["systail", "RUNNING"],
        ["stackato_rest", "RUNNING"], ["cloud_controller_ng", "RUNNING"], ["health_manager", "RUNNING"],
        ["stager", "RUNNING"], ["cc_nginx", "RUNNING"], ["router", "RUNNING"]]
    code, out, err = run(capsys, "process", "list", "-j")
    assert json.loads(out)["router"] == "RUNNING" and len(json.loads(out)) == 10


def test_restart_of_a_static_process(make_sandbox_state, capsys):
    make_sandbox_state()
    assert run(capsys, "process", "restart", "router") == (
        0, "router: stopped\nrouter: started\n", "")


def test_fence_without_supervisord_is_unknown(make_sandbox_state, capsys):
    make_sandbox_state()
    code, out, _ = run(capsys, "process", "list", "-n", "127.0.0.12")
    assert ["fence", "UNKNOWN"] in [line.split() for line in out.splitlines()]
    code, out, _ = run(capsys, "process", "list", "-n", "127.0.0.12", "--json")
    assert json.loads(out) == {"dea_ng": "RUNNING", "dir_server": "RUNNING", "fence": "UNKNOWN", "apptail": "RUNNING"}
    assert run(capsys, "process", "ready", "fence", "-n", "127.0.0.12") == (0, "NOT READY\n", "")
    assert run(capsys, "process", "ready", "router") == (0, "READY\n", "")


@pytest.mark.parametrize("version, usage_code, error_code", [
    ("3.0", 0, 0), ("3.0.1", 0, 0), ("3.4", 0, 0), ("3.4.1", 2, 1)])
def test_exit_codes_follow_the_version(make_sandbox_state, capsys, version, usage_code, error_code):
    make_sandbox_state(version)
    code, out, err = run(capsys, "bogus")
    assert (code, out) == (usage_code, "") and "invalid choice: 'bogus'" in err
    code, out, err = run(capsys, "process", "restart", "fence")  # the core has no fence
    assert (code, out, err) == (error_code, "", "fence: ERROR (no such process)\n")
    code, out, err = run(capsys, "process", "list", "-n", "127.0.0.99")
    assert (code, err) == (error_code, "Error: no node with address 127.0.0.99 in the cluster\n")
    code, out, err = run(capsys, "process", "list", "-n", "not-an-ip")
    assert code == usage_code and "not an IPv4 address" in err
    code, out, err = run(capsys, "config", "get", "fence", "docker/image")
    assert code == error_code and err.startswith("Error: config_redis at 127.0.0.1:1 is unreachable")


def test_a_down_node_is_unreachable(make_sandbox_state, capsys, tmp_path):
    make_sandbox_state("3.4.1")
    faults.write(tmp_path / "dea1", down=True)
    assert run(capsys, "process", "list", "-n", "127.0.0.12") == (
        1, "", "Error: node 127.0.0.12 unreachable\n")
    assert run(capsys, "process", "restart", "fence", "-n", "127.0.0.12") == (
        1, "", "Error: node 127.0.0.12 unreachable\n")
    code, out, _ = run(capsys, "status")
    assert code == 0 and "127.0.0.12 unreachable" in out.splitlines()


def test_without_a_cluster_file_kato_fails_loudly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SANDBOX_STATE", str(tmp_path / "absent"))
    code, out, err = run(capsys, "info")
    assert code == 1 and "does not exist" in err


def test_process_lines_show_no_pid_image_or_start_time():
    # fence_status knows them (for the sandbox's status); kato, like the real one, prints none
    status = {"name": "fence", "state": "RUNNING", "pid": 42, "image": "a/b:1", "started": "2026-01-01T00:00:00Z"}
    assert kato_process.format_process(status).split() == ["fence", "RUNNING"]
    assert kato_process.as_json([status]) == {"fence": "RUNNING"}
    assert kato_process.format_process({"name": "fence", "state": "FATAL", "pid": None}).split() == ["fence", "FATAL"]


def test_processes_per_role_without_duplicates():
    assert kato_process.process_names(["dea"]) == ["dea_ng", "dir_server", "fence", "apptail"]
    assert kato_process.process_names(["dea", "dea", "mysql"]) == [
        "dea_ng", "dir_server", "fence", "apptail"]


def test_fence_counts_images_present_without_docker():
    assert fence.missing_image_reason("any/image:1", {"docker": False}, None) is None
    assert "DOCKER_HOST" in fence.missing_image_reason("a:1", {"docker": True}, None)


def test_fence_start_time_is_iso_utc():
    stamp = fence.utc_now()
    assert stamp.endswith("Z") and "T" in stamp and len(stamp) == 20
