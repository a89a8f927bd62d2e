"""The sandbox's description: addresses, names, and what it refuses."""
from pathlib import Path

import pytest

from sandbox import layout
from sandbox.procs import SandboxError


def describe(**overrides):
    options = dict(dea_count=3, docker=True, kato_version="3.0", base_address="127.0.0.11",
                   ssh_port=2222, client_key=Path("/tmp/key"))
    options.update(overrides)
    return layout.describe(Path("/tmp/some/state"), **options)


def test_core_then_deas_on_consecutive_loopback_addresses():
    cluster = describe()
    assert [(n["name"], n["address"], n["roles"]) for n in cluster["nodes"]] == [
        ("core", "127.0.0.11", ["primary", "controller", "router"]),
        ("dea1", "127.0.0.12", ["dea"]),
        ("dea2", "127.0.0.13", ["dea"]),
        ("dea3", "127.0.0.14", ["dea"]),
    ]
    assert cluster["registry"] == {"host": "127.0.0.11", "port": 5000}
    assert cluster["config_redis"] == {"host": "127.0.0.11", "port": 7474,
                                       "password_file": str(cluster["state_dir"]) + "/config_redis/password"}


def test_socket_paths_stay_short_whatever_the_state_dir():
    deep = Path("/tmp/" + "d" * 150)
    cluster = layout.describe(deep, dea_count=2, docker=True, kato_version="3.0",
                              base_address="127.0.0.11", ssh_port=2222, client_key=Path("/k"))
    for node in cluster["nodes"]:
        assert len(node["docker_host"].removeprefix("unix://")) < 108
    deas = layout.deas(cluster)
    assert len(deas) == 2 and all(len(n["supervisor_socket"]) < 108 for n in deas)


def test_only_deas_run_supervisord_and_no_docker_means_no_engines():
    cluster = describe(docker=False)
    assert cluster["nodes"][0]["supervisor_socket"] is None
    assert {n["docker_host"] for n in cluster["nodes"]} == {None}


@pytest.mark.parametrize("base, message", [
    ("10.0.0.1", "loopback addresses only"),
    ("192.168.1.10", "loopback addresses only"),
    ("127.255.255.254", "loopback addresses only"),  # the DEAs would leave 127/8
    ("127.0.0.0", "loopback addresses only"),
    ("localhost", "not an IPv4 address"),
    ("127.0.0.1; rm -rf /", "not an IPv4 address"),
])
def test_refuses_addresses_outside_loopback(base, message):
    with pytest.raises(SandboxError, match=message):
        describe(base_address=base)


def test_refuses_unknown_kato_version_and_silly_node_counts():
    with pytest.raises(SandboxError, match="kato version"):
        describe(kato_version="2.10")
    with pytest.raises(SandboxError, match="--dea"):
        describe(dea_count=0)


def test_node_lookup_by_name_or_address():
    cluster = describe()
    assert layout.node(cluster, "dea2")["address"] == "127.0.0.13"
    assert layout.node(cluster, "127.0.0.13")["name"] == "dea2"
    with pytest.raises(SandboxError, match="no node 'dea9'.*core, dea1"):
        layout.node(cluster, "dea9")
