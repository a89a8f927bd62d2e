"""The DEA supervisord.conf, read back the way supervisord reads it."""
import configparser

from supervisor.datatypes import dict_of_key_value_pairs

from sandbox.nodeside import supervisor_conf


def cluster_and_node(tmp_path, docker_host="unix:///tmp/sbx-ab12cd/dea1/docker.sock"):
    node = {"name": "dea1", "address": "127.0.0.12", "roles": ["dea"],
            "dir": str(tmp_path / "nodes" / "dea1"), "docker_host": docker_host,
            "supervisor_socket": str(tmp_path / "sock" / "supervisor.sock")}
    cluster = {"state_dir": str(tmp_path / "100% state"), "python": "/opt/my venv/bin/python",
               "project_dir": "/src/dash", "nodes": [node]}
    return cluster, node


def parse(text):
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def test_fence_program_section(tmp_path):
    cluster, node = cluster_and_node(tmp_path)
    conf = parse(supervisor_conf.render(cluster, node))
    fence = conf["program:fence"]
    assert fence["command"] == "'/opt/my venv/bin/python' -m sandbox.nodeside.fence"
    assert (fence["startsecs"], fence["startretries"], fence["autorestart"]) == ("2", "0", "true")
    assert fence["stopsignal"] == "TERM"
    assert int(fence["stopwaitsecs"]) >= 3600
    # supervisord expands %(x)s before parsing environment=: undo the %% escape first
    env = dict_of_key_value_pairs(fence["environment"].replace("%%", "%"))
    assert env == {"SANDBOX_STATE": str(tmp_path / "100% state"), "SANDBOX_NODE": "dea1",
                   "PYTHONPATH": "/src/dash",
                   "DOCKER_HOST": "unix:///tmp/sbx-ab12cd/dea1/docker.sock"}


def test_socket_pidfile_and_logs_live_with_the_node(tmp_path):
    cluster, node = cluster_and_node(tmp_path)
    conf = parse(supervisor_conf.render(cluster, node))
    assert conf["unix_http_server"]["file"] == node["supervisor_socket"]
    assert conf["supervisord"]["pidfile"] == node["dir"] + "/supervisord.pid"
    assert conf["supervisord"]["logfile"] == node["dir"] + "/supervisord.log"
    assert conf["program:fence"]["stdout_logfile"] == node["dir"] + "/fence.log"
    assert conf["supervisorctl"]["serverurl"] == "unix://" + node["supervisor_socket"]
    assert "rpcinterface:supervisor" in conf


def test_xml_rpc_on_the_node_address_port_9001_only(tmp_path):
    # As Stackato lists it: the console reaches it through the node's SSH connection.
    cluster, node = cluster_and_node(tmp_path)
    conf = parse(supervisor_conf.render(cluster, node))
    assert conf["inet_http_server"]["port"] == "127.0.0.12:9001"


def test_no_docker_host_without_docker(tmp_path):
    cluster, node = cluster_and_node(tmp_path, docker_host=None)
    env = dict_of_key_value_pairs(
        parse(supervisor_conf.render(cluster, node))["program:fence"]["environment"])
    assert "DOCKER_HOST" not in env


def test_write_conf_and_nothing_running(tmp_path):
    cluster, node = cluster_and_node(tmp_path)
    path = supervisor_conf.write_conf(cluster, node)
    assert path.read_text().startswith("; written by")
    assert supervisor_conf.running(node) is None
    assert supervisor_conf.stop(node) is False


def test_a_recycled_pid_is_not_taken_for_supervisord(tmp_path):
    cluster, node = cluster_and_node(tmp_path)
    supervisor_conf.write_conf(cluster, node)
    supervisor_conf.pidfile(node).write_text("1\n")  # init, not our supervisord
    assert supervisor_conf.running(node) is None
