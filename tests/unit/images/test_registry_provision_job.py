"""The provisioning job's decisions against a scripted Core engine: the seed's
published-port path (which the sandbox's bridge-less engines cannot run),
and the failures an operator must be told about. The real thing runs in
tests/integration/images/test_registry_provision.py."""
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from images import registry, registry_container, registry_provision
from images.models import RegistryProvisioning
from job_runs.models import RunStatus
from nodes import ssh
from nodes.models import Cluster, Node
from nodes.ssh import CommandResult

pytestmark = pytest.mark.django_db
NAME = registry_container.NAME


class ScriptedCore:
    """Answers the docker CLI the way Docker 26 prints, from a tiny state.
    Only the forms an old (1.x) engine has too are answered."""

    def __init__(self, bridge=True, images=(), port_output="127.0.0.5:49153\n[::]:49153\n", exits=False):
        self.bridge, self.images, self.port_output, self.exits = bridge, set(images), port_output, exits
        self.container, self.commands = None, []

    def run(self, argv, timeout=None):
        argv = tuple(argv)
        self.commands.append(argv)
        def ok(out=""):
            return CommandResult(argv, 0, out, "")

        if argv[:4] == ("docker", "inspect", "--type", "container"):
            if self.container is None:
                return CommandResult(argv, 1, "[]\n", f"Error: No such container: {NAME}\n")
            return ok(json.dumps([self.container]))
        if argv[:4] == ("docker", "inspect", "--type", "image"):
            return ok("sha256:1\n") if argv[-1] in self.images else CommandResult(argv, 1, "[]", "Error: No such image")
        if argv[:3] == ("docker", "pull", "--"):
            self.images.add(argv[3])
            return ok("2: Pulling from library/registry\nStatus: Downloaded newer image for registry:2\n")
        if argv == ("docker", "network", "inspect", "--", "bridge"):
            return ok('[{"Name": "bridge"}]\n') if self.bridge else CommandResult(
                argv, 1, "[]\n", "Error response from daemon: network bridge not found\n")
        if argv[:2] == ("docker", "run"):
            host = "--net" in argv
            env = [argv[argv.index("-e") + 1]] if "-e" in argv else []
            self.container = {"Id": "c0ffee" * 10, "State": {"Status": "exited" if self.exits else "running"},
                              "HostConfig": {"NetworkMode": "host" if host else "bridge"},
                              "Config": {"Image": argv[-1], "Env": env}}
            return ok(self.container["Id"] + "\n")
        if argv[:2] == ("docker", "start"):
            self.container["State"]["Status"] = "running"
            return ok(NAME + "\n")
        if argv[:2] == ("docker", "port"):
            return ok(self.port_output)
        if argv[:2] == ("docker", "logs"):
            return ok('level=fatal msg="listen tcp 127.0.0.5:5000: bind: address already in use"\n')
        raise AssertionError(f"unexpected command {argv}")


class Pool:
    def __init__(self, session):
        self.session = session

    def get(self, endpoint):
        if isinstance(self.session, Exception):
            raise self.session
        return self.session

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def cluster(settings):
    settings.REGISTRY_IMAGE = "registry:2"
    cluster = Cluster.objects.create(name="prod", core_address="127.0.0.5")
    key_type, key = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode().split()
    Node.objects.create(cluster=cluster, address="127.0.0.5", roles=["primary"], host_key_type=key_type,
                        host_key=key)
    return cluster


@pytest.fixture
def answers(monkeypatch):
    """Which locations a registry answers at (nothing is contacted)."""
    up = set()

    def ping(location):
        if location not in up:
            raise registry.RegistryUnreachable(f"the registry at {location} does not answer (refused)")
    monkeypatch.setattr(registry_provision.registry, "ping", ping)
    return up


def provision(monkeypatch, cluster, core):
    monkeypatch.setattr(registry_provision.remote, "session_pool", lambda: Pool(core))
    row = RegistryProvisioning.objects.create(cluster=cluster, image="registry:2", requested_by_username="admin")
    registry_provision.run(row.pk)
    row.refresh_from_db()
    cluster.refresh_from_db()
    return row


def test_the_seed_way_pull_run_with_a_published_port_and_ask_docker_port(monkeypatch, cluster, answers):
    core = ScriptedCore(bridge=True)
    answers.add("127.0.0.5:49153")
    row = provision(monkeypatch, cluster, core)
    assert row.status == RunStatus.SUCCEEDED, row.log
    assert (row.location, cluster.registry) == ("127.0.0.5:49153", "127.0.0.5:49153")
    assert ("docker", "pull", "--", "registry:2") in core.commands
    assert ("docker", "run", "-d", "--name", NAME, "--restart", "always", "-p", "127.0.0.5::5000", "--",
            "registry:2") in core.commands
    assert ("docker", "port", "--", NAME, "5000") in core.commands
    assert "publishing port 5000 on 127.0.0.5 (the seed's `docker run -p`)" in row.log


@pytest.mark.parametrize("bridge", [True, False])
def test_a_registry_already_answering_on_the_core_port_is_recorded_and_nothing_started(monkeypatch, cluster, answers,
                                                                                       bridge):
    """Set up by hand as the seed does (or the sandbox's own): kept, not doubled."""
    core = ScriptedCore(bridge=bridge)
    answers.add("127.0.0.5:5000")
    for _ in range(2):  # and again: the same answer
        row = provision(monkeypatch, cluster, core)
        assert row.status == RunStatus.SUCCEEDED, row.log
        assert (row.location, cluster.registry) == ("127.0.0.5:5000", "127.0.0.5:5000")
        assert "a v2 registry already answers at http://127.0.0.5:5000/v2/ on the Core node" in row.log
    assert not any(c[:2] in (("docker", "run"), ("docker", "pull")) for c in core.commands), core.commands


def test_host_network_refuses_a_port_where_something_else_answers(monkeypatch, cluster):
    def ping(location):
        raise registry.RegistryError(f"{location} answered /v2/ with HTTP 404: not a Docker registry (v2 API)")
    monkeypatch.setattr(registry_provision.registry, "ping", ping)
    core = ScriptedCore(bridge=False, images=["registry:2"])
    row = provision(monkeypatch, cluster, core)
    assert row.status == RunStatus.FAILED
    assert "something that is not a registry this console can use already answers at 127.0.0.5:5000" in (
        row.status_reason)
    assert not any(command[:2] == ("docker", "run") for command in core.commands) and cluster.registry == ""


def test_an_engine_older_than_state_status_is_read_by_its_flags():
    assert registry_container.state({"State": {"Running": True, "Paused": False}}) == "running"
    assert registry_container.state({"State": {"Running": False, "Paused": True}}) == "paused"
    assert registry_container.state({"State": {"Running": False, "StartedAt": "2015-06-01T10:00:00Z"}}) == "exited"
    assert registry_container.state({"State": {"Running": False, "StartedAt": "0001-01-01T00:00:00Z"}}) == "created"


def test_host_network_address_comes_from_the_containers_config(monkeypatch, cluster, answers):
    core = ScriptedCore(bridge=False, images=["registry:2"])
    original = core.run

    def run(argv, timeout=None):
        result = original(argv, timeout)
        if tuple(argv[:2]) == ("docker", "run"):
            answers.add("127.0.0.5:5000")  # it answers once started
        return result
    core.run = run
    row = provision(monkeypatch, cluster, core)
    assert row.status == RunStatus.SUCCEEDED, row.log
    assert ("docker", "run", "-d", "--name", NAME, "--restart", "always", "--net", "host", "-e",
            "REGISTRY_HTTP_ADDR=127.0.0.5:5000", "--", "registry:2") in core.commands
    assert not any(c[:2] == ("docker", "pull") for c in core.commands)
    assert cluster.registry == "127.0.0.5:5000" and not any(c[:2] == ("docker", "port") for c in core.commands)


def test_docker_port_with_no_published_port_fails_clearly(monkeypatch, cluster, answers):
    row = provision(monkeypatch, cluster, ScriptedCore(port_output=""))
    assert row.status == RunStatus.FAILED
    assert f"`docker port -- {NAME} 5000` printed no single published port" in row.status_reason
    assert cluster.registry == ""


def test_a_container_that_exits_at_once_fails_with_its_output(monkeypatch, cluster, answers):
    core = ScriptedCore(images=["registry:2"], exits=True)
    row = provision(monkeypatch, cluster, core)
    assert row.status == RunStatus.FAILED
    assert "does not stay running" in row.status_reason and "address already in use" in row.status_reason
    assert cluster.registry == ""


def test_a_paused_container_is_left_for_the_operator(monkeypatch, cluster, answers):
    core = ScriptedCore()
    core.container = {"Id": "ab" * 32, "State": {"Status": "paused"}, "HostConfig": {"NetworkMode": "bridge"},
                      "Config": {"Image": "registry:2"}}
    row = provision(monkeypatch, cluster, core)
    assert row.status == RunStatus.FAILED
    assert f"the container {NAME} is paused" in row.status_reason
    assert not any(c[:2] in (("docker", "run"), ("docker", "start")) for c in core.commands)


def test_an_unreachable_core_node_is_errored(monkeypatch, cluster, answers):
    row = provision(monkeypatch, cluster, ssh.Unreachable("connection refused", "127.0.0.5", 22))
    assert row.status == RunStatus.ERRORED
    assert row.status_reason == "could not reach the Core node: 127.0.0.5:22: connection refused"


def test_no_core_node_row_is_a_clear_failure(monkeypatch, cluster, answers):
    cluster.nodes.all().delete()
    row = provision(monkeypatch, cluster, ScriptedCore())
    assert row.status == RunStatus.FAILED
    assert "no node with the Core address 127.0.0.5" in row.status_reason


def test_the_plan_says_before_queueing_that_an_undeclared_core_registry_would_be_refused(settings, cluster):
    settings.INSECURE_REGISTRIES = []
    what, why = registry_provision.plan(cluster)
    assert not why
    assert "127.0.0.5:5000 is not declared insecure" in what
    assert "INSECURE_REGISTRIES=127.0.0.5:5000" in what

    settings.INSECURE_REGISTRIES = ["127.0.0.0/8"]
    what, why = registry_provision.plan(cluster)
    assert not why and "INSECURE_REGISTRIES" not in what
