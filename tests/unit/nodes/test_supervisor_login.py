"""supervisord's XML-RPC login (SUPERVISOR_USERNAME / SUPERVISOR_PASSWORD),
against a real supervisord whose inet_http_server asks for one. The SSH
channel is stood in for by a TCP socket to it (the same sendall / recv)."""
import secrets
import socket
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from nodes.ssh import ConnectionLost
from nodes.supervisor import Supervisor, SupervisorError

SECRET = secrets.token_hex(12)  # a new one per run: it must not show in any message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running(session, port) -> bool:
    try:
        return Supervisor(session, port=port, login=("console", SECRET)).process_info("fence").running
    except (SupervisorError, ConnectionLost):  # not listening yet
        return False


@pytest.fixture(scope="module")
def supervisord(tmp_path_factory):
    where, port = tmp_path_factory.mktemp("sup"), _free_port()
    conf = where / "supervisord.conf"
    conf.write_text(f"""[inet_http_server]
port=127.0.0.1:{port}
username=console
password={SECRET}
[supervisord]
logfile={where}/supervisord.log
pidfile={where}/supervisord.pid
nodaemon=true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:fence]
command=sleep 600
startsecs=0
""")
    process = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)],  # noqa: S603
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    session = SimpleNamespace(endpoint=SimpleNamespace(address="127.0.0.1"),
                              open_local_port=lambda port, timeout: socket.create_connection(("127.0.0.1", port), timeout))
    deadline = time.monotonic() + 20
    while not _running(session, port):
        assert time.monotonic() < deadline and process.poll() is None, "supervisord did not start"
        time.sleep(0.1)
    yield session, port
    process.terminate()
    process.wait(10)


def test_the_configured_login_is_sent(supervisord, settings):
    session, port = supervisord
    settings.SUPERVISOR_USERNAME, settings.SUPERVISOR_PASSWORD = "console", SECRET
    info = Supervisor(session, port=port).process_info("fence")
    assert info.running and info.pid


def test_without_a_login_the_error_says_which_settings_to_set(supervisord, settings):
    session, port = supervisord
    settings.SUPERVISOR_USERNAME, settings.SUPERVISOR_PASSWORD = "", ""
    with pytest.raises(SupervisorError, match="HTTP 401 .*set SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD"):
        Supervisor(session, port=port).process_info("fence")


def test_a_wrong_password_is_refused_and_never_shown(supervisord, settings):
    session, port = supervisord
    settings.SUPERVISOR_USERNAME, settings.SUPERVISOR_PASSWORD = "console", SECRET + "x"
    with pytest.raises(SupervisorError, match="HTTP 401 .*with the configured SUPERVISOR_USERNAME") as error:
        Supervisor(session, port=port).process_info("fence")
    assert SECRET not in str(error.value)
