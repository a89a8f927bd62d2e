"""sandbox.json loading and node lookups."""
import json

import pytest

from sandbox.nodeside import cluster_file


def write_cluster(tmp_path, **overrides):
    cluster = {"id": "ab12cd", "state_dir": str(tmp_path), "kato_version": "3.0",
               "nodes": [{"name": "core", "address": "127.0.0.11", "roles": ["primary"],
                          "dir": str(tmp_path / "core")},
                         {"name": "dea1", "address": "127.0.0.12", "roles": ["dea"],
                          "dir": str(tmp_path / "dea1")}]}
    cluster.update(overrides)
    (tmp_path / "sandbox.json").write_text(json.dumps(cluster))
    return cluster


def test_load_from_sandbox_state(tmp_path):
    write_cluster(tmp_path)
    cluster = cluster_file.load(cluster_file.state_dir({"SANDBOX_STATE": str(tmp_path)}))
    assert cluster_file.this_node(cluster, {"SANDBOX_NODE": "dea1"})["address"] == "127.0.0.12"
    assert cluster_file.node_by_address(cluster, "127.0.0.11")["name"] == "core"
    assert cluster_file.node_by_address(cluster, "127.0.0.99") is None


@pytest.mark.parametrize("env", [{}, {"SANDBOX_STATE": ""}])
def test_state_dir_must_be_set(env):
    with pytest.raises(cluster_file.ClusterFileError, match="SANDBOX_STATE"):
        cluster_file.state_dir(env)


def test_this_node_needs_a_known_name(tmp_path):
    cluster = write_cluster(tmp_path)
    with pytest.raises(cluster_file.ClusterFileError, match="SANDBOX_NODE"):
        cluster_file.this_node(cluster, {})
    with pytest.raises(cluster_file.ClusterFileError, match="dea9"):
        cluster_file.this_node(cluster, {"SANDBOX_NODE": "dea9"})


def test_missing_or_broken_files_say_so(tmp_path):
    with pytest.raises(cluster_file.ClusterFileError, match="does not exist"):
        cluster_file.load(tmp_path)
    (tmp_path / "sandbox.json").write_text("{")
    with pytest.raises(cluster_file.ClusterFileError, match="not valid JSON"):
        cluster_file.load(tmp_path)
    write_cluster(tmp_path, kato_version="2.10")
    with pytest.raises(cluster_file.ClusterFileError, match="unknown kato version"):
        cluster_file.load(tmp_path)


def test_save_round_trips(tmp_path):
    cluster = write_cluster(tmp_path)
    cluster["kato_version"] = "3.4"
    cluster_file.save(cluster)
    assert cluster_file.load(tmp_path)["kato_version"] == "3.4"
