"""nodes.kato and nodes.remote_docker against the sandbox's kato emulator,
fence and Docker engines, over nodes.ssh sessions (Stackato 3.0 behaviour:
kato exits 0 even when it fails)."""
from pathlib import Path

import pytest

from nodes import remote_docker
from nodes.kato import Kato, KatoError, NodeEntry
from nodes.ssh import Endpoint, HostKey, SessionPool
from sandbox.engines import BASE_IMAGE
from sandbox.layout import node
from support.sandbox import wait_for_fence

pytestmark = pytest.mark.sandbox


@pytest.fixture
def pool(sandbox):
    with SessionPool(private_key_path=sandbox["client_key"], connect_timeout=5, command_timeout=60) as sessions:
        yield sessions


@pytest.fixture
def kato_on(sandbox, pool):
    def on(name):
        each = node(sandbox, name)
        key = HostKey.from_openssh_line((Path(each["dir"]) / "ssh_host_ed25519_key.pub").read_text())
        return Kato(pool.get(Endpoint(each["address"], each["ssh_port"], each["ssh_user"], key)))
    return on


def test_config_get_returns_the_base_image(kato_on):
    core = kato_on("core")
    assert core.config_get("fence", "docker/image") == BASE_IMAGE
    assert core.config_get("fence") == {"docker": {"image": BASE_IMAGE}}
    assert core.desired_image() == BASE_IMAGE


def test_config_get_of_a_missing_key_is_an_error_though_kato_exits_0(kato_on):
    with pytest.raises(KatoError) as caught:
        kato_on("dea1").config_get("fence", "docker/nope")
    assert caught.value.result.exit_code == 0
    assert "key docker/nope not found in fence" in str(caught.value)


def test_config_set_writes_cluster_wide_and_reads_back(kato_on):
    assert kato_on("core").config_set("fence", "docker/image", "exampleco/newimg:1.0.0") == "exampleco/newimg:1.0.0"
    assert kato_on("dea3").desired_image() == "exampleco/newimg:1.0.0"


def test_config_set_of_a_list(kato_on):
    images = ["exampleco/newimg:1.0.0", BASE_IMAGE]
    core = kato_on("core")
    # A scratch component, so the fence config other tests check stays as seeded.
    assert core.config_set("stackato_dash_test", "docker/images", images) == images
    assert core.config_get("stackato_dash_test", "docker/images/0") == images[0]


def test_process_list_shows_every_process_with_its_state_only(kato_on):
    processes = kato_on("dea1").process_list()
    assert [(p.name, p.state) for p in processes] == [
        ("dea_ng", "RUNNING"), ("dir_server", "RUNNING"), ("fence", "RUNNING"), ("apptail", "RUNNING")]
    assert kato_on("dea1").process_ready("fence") is True


def test_process_list_of_another_node_from_the_core(sandbox, kato_on):
    dea2 = node(sandbox, "dea2")
    kato_on("core").config_set("fence", "docker/image", "exampleco/missing:9.9.9")
    with pytest.raises(KatoError):
        kato_on("dea2").process_restart("fence")  # FATAL on dea2 only
    assert kato_on("core").process("fence", node_ip=dea2["address"]).state == "FATAL"
    assert kato_on("core").process("fence", node_ip=node(sandbox, "dea1")["address"]).state == "RUNNING"
    assert kato_on("core").process_ready("fence", node_ip=dea2["address"]) is False


def test_process_restart_changes_the_pid(sandbox, kato_on):
    dea1 = kato_on("dea1")
    before = wait_for_fence(sandbox, node(sandbox, "dea1"), BASE_IMAGE, timeout=0)
    result = dea1.process_restart("fence")
    assert result.stdout == "fence: stopped\nfence: started\n"
    after = wait_for_fence(sandbox, node(sandbox, "dea1"), BASE_IMAGE, timeout=0)
    assert dea1.process("fence").state == "RUNNING" and after["pid"] != before["pid"]


def test_a_failed_restart_is_an_error_though_kato_exits_0(kato_on):
    kato_on("core").config_set("fence", "docker/image", "exampleco/missing:9.9.9")
    dea2 = kato_on("dea2")
    with pytest.raises(KatoError) as caught:
        dea2.process_restart("fence")
    assert caught.value.result.exit_code == 0 and "fence: ERROR" in str(caught.value)
    assert dea2.process("fence").state == "FATAL"


def test_node_list_returns_every_sandbox_node_with_its_roles(sandbox, kato_on):
    assert kato_on("dea1").node_list() == [NodeEntry(n["address"], tuple(n["roles"])) for n in sandbox["nodes"]]


def test_info_names_the_node(sandbox, kato_on):
    dea3 = node(sandbox, "dea3")
    assert kato_on("dea3").info() == {"address": dea3["address"], "name": "dea3", "roles": ["dea"],
                                      "version": sandbox["kato_version"]}


def test_remote_docker_lists_the_base_image_on_a_dea(kato_on):
    session = kato_on("dea2").session
    assert remote_docker.engine_version(session)
    found = {image["ref"]: image for image in remote_docker.images(session)}
    assert found[BASE_IMAGE]["id"].startswith("sha256:")
    assert found[BASE_IMAGE]["digest"] is None  # imported locally, never pushed or pulled
