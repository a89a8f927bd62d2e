"""fence's pid, state and start time from the node's supervisord, over the
node's pinned SSH connection (a direct-tcpip channel to <node>:9001), against
the sandbox's real supervisord and fence."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from nodes.kato import Kato, KatoError
from nodes.ssh import Endpoint, HostKey, PortClosed, SessionPool
from nodes.supervisor import Supervisor, SupervisorError
from sandbox.engines import BASE_IMAGE
from sandbox.layout import node
from support.sandbox import wait_for_fence

pytestmark = pytest.mark.sandbox


@pytest.fixture
def session_on(sandbox):
    with SessionPool(private_key_path=sandbox["client_key"], connect_timeout=5, command_timeout=60) as pool:
        def on(name):
            each = node(sandbox, name)
            key = HostKey.from_openssh_line((Path(each["dir"]) / "ssh_host_ed25519_key.pub").read_text())
            return pool.get(Endpoint(each["address"], each["ssh_port"], each["ssh_user"], key))
        yield on


def test_fence_as_supervisord_reports_it(sandbox, session_on):
    truth = wait_for_fence(sandbox, node(sandbox, "dea1"), BASE_IMAGE, timeout=0)
    info = Supervisor(session_on("dea1")).process_info("fence")
    assert (info.name, info.state, info.pid, info.running) == ("fence", "RUNNING", truth["pid"], True)
    started = datetime.fromisoformat(truth["started"].replace("Z", "+00:00"))
    assert abs(info.started - started) <= timedelta(seconds=3)
    assert info.started <= datetime.now(timezone.utc)


def test_a_restart_shows_as_a_new_pid_started_later(sandbox, session_on):
    session = session_on("dea2")
    before = Supervisor(session).process_info("fence")
    Kato(session).process_restart("fence")
    after = Supervisor(session).process_info("fence")
    assert after.running and after.pid != before.pid and after.started >= before.started
    assert after.pid == wait_for_fence(sandbox, node(sandbox, "dea2"), BASE_IMAGE, timeout=0)["pid"]


def test_a_failed_start_is_fatal_with_supervisords_reason(session_on):
    Kato(session_on("core")).config_set("fence", "docker/image", "exampleco/missing:9.9.9")
    session = session_on("dea3")
    with pytest.raises(KatoError):
        Kato(session).process_restart("fence")
    info = Supervisor(session).process_info("fence")
    assert (info.state, info.pid, info.running) == ("FATAL", None, False)
    assert info.spawn_error


def test_an_unknown_process_and_a_closed_port_are_clear_errors(session_on):
    session = session_on("dea1")
    with pytest.raises(SupervisorError, match="BAD_NAME: nosuch"):
        Supervisor(session).process_info("nosuch")
    # The core runs no supervisord on 9001 in the sandbox: nothing listens there.
    with pytest.raises(PortClosed, match=r":9001 for us"):
        Supervisor(session_on("core")).process_info("fence")
    # Any other port is refused by the node's sshd (PermitOpen <node>:9001 in the sandbox).
    with pytest.raises(PortClosed, match=r":2222 for us"):
        Supervisor(session, port=2222).process_info("fence")
    # The session survives both: kato still answers on it.
    assert Kato(session).process("fence").state == "RUNNING"
