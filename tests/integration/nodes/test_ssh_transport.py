"""nodes.ssh against the sandbox's real sshd: pinned host keys, timeouts,
literal arguments, one connection per node within a job."""
import socket
import subprocess
import threading
from pathlib import Path

import paramiko
import pytest

from nodes import ssh
from nodes.ssh import Endpoint, HostKey, Session, SessionPool
from sandbox import knobs
from sandbox.layout import node
from support.waiting import wait_until

pytestmark = pytest.mark.sandbox

CONNECT_TIMEOUT = 3
NASTY = "; rm -rf / $(id) `id` \"quotes\" 'single' newline\n * ? \\ | & > < ~ {a,b} $HOME ! #x %s"


def pinned_key(sandbox, name) -> HostKey:
    return HostKey.from_openssh_line((Path(node(sandbox, name)["dir"]) / "ssh_host_ed25519_key.pub").read_text())


def endpoint(sandbox, name, host_key="pinned") -> Endpoint:
    each = node(sandbox, name)
    key = pinned_key(sandbox, name) if host_key == "pinned" else host_key
    return Endpoint(each["address"], each["ssh_port"], each["ssh_user"], key)


def session(sandbox, name, host_key="pinned", **options) -> Session:
    options.setdefault("private_key_path", sandbox["client_key"])
    options.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return Session(endpoint(sandbox, name, host_key), **options)


def marker(sandbox, name, tag) -> Path:
    path = Path(node(sandbox, name)["dir"]) / f"ran-{tag}"
    path.unlink(missing_ok=True)
    return path


def keygen_fingerprint(pub: Path) -> str:
    return subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)],
                          check=True, capture_output=True, text=True).stdout.split()[1]


def test_a_trusted_node_runs_commands_with_exit_code_stdout_and_stderr(sandbox):
    with session(sandbox, "dea1") as s:
        result = s.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
        assert s.run(["hostname"]).exit_code == 0
        with pytest.raises(ssh.CommandFailed) as caught:
            s.run(["false"], check=True)
        assert caught.value.result.exit_code == 1


def test_scan_shows_the_fingerprint_ssh_would_show(sandbox):
    dea1 = node(sandbox, "dea1")
    presented = ssh.scan_host_key(dea1["address"], dea1["ssh_port"], timeout=CONNECT_TIMEOUT)
    assert presented == pinned_key(sandbox, "dea1")
    assert presented.fingerprint == keygen_fingerprint(Path(dea1["dir"]) / "ssh_host_ed25519_key.pub")


def test_an_unknown_host_key_is_refused_and_no_command_runs(sandbox):
    ran = marker(sandbox, "dea1", "unknown")
    with pytest.raises(ssh.HostKeyUnknown) as caught:
        session(sandbox, "dea1", host_key=None).run(["touch", str(ran)])
    assert caught.value.presented == pinned_key(sandbox, "dea1")
    assert caught.value.presented.fingerprint in str(caught.value)
    assert str(caught.value).startswith(f"{node(sandbox, 'dea1')['address']}:2222: ")
    assert not ran.exists()


def test_a_rotated_host_key_is_refused_naming_both_fingerprints_and_no_command_runs(sandbox):
    old = pinned_key(sandbox, "dea2")
    ran = marker(sandbox, "dea2", "rotated")
    knobs.apply(Path(sandbox["state_dir"]), "dea2", "rotate-host-key")
    new = pinned_key(sandbox, "dea2")
    assert new != old
    with pytest.raises(ssh.HostKeyChanged) as caught:
        session(sandbox, "dea2", host_key=old).run(["touch", str(ran)])
    assert (caught.value.pinned, caught.value.presented) == (old, new)
    assert old.fingerprint in str(caught.value) and new.fingerprint in str(caught.value)
    assert not ran.exists()
    # Once an operator trusts the new key, the node is usable again.
    assert session(sandbox, "dea2", host_key=new).run(["touch", str(ran)]).exit_code == 0
    assert ran.exists()
    ran.unlink()


def test_a_pinned_key_of_a_type_the_node_does_not_have_is_a_changed_key(sandbox, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "k")], check=True)
    ecdsa = HostKey.from_openssh_line((tmp_path / "k.pub").read_text())
    ran = marker(sandbox, "dea1", "other-type")
    with pytest.raises(ssh.HostKeyChanged) as caught:
        session(sandbox, "dea1", host_key=ecdsa).run(["touch", str(ran)])
    assert caught.value.presented == pinned_key(sandbox, "dea1")
    assert ecdsa.fingerprint in str(caught.value)
    assert not ran.exists()


def test_a_down_node_is_unreachable_within_the_timeout_and_others_still_work(sandbox):
    knobs.apply(Path(sandbox["state_dir"]), "dea1", "down")
    with pytest.raises(ssh.Unreachable) as caught:
        session(sandbox, "dea1").run(["true"])
    # Refused at once on loopback: the reason says so, not a timeout.
    assert str(caught.value).startswith(f"{node(sandbox, 'dea1')['address']}:2222: unreachable")
    assert "refused" in str(caught.value).lower(), str(caught.value)
    assert session(sandbox, "dea2").run(["true"]).exit_code == 0


def test_a_port_that_never_speaks_ssh_times_out_as_unreachable():
    # Accepts TCP and then says nothing: only the connect timeout ends the wait.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        try:
            accepted.append(listener.accept())
        except OSError:  # closed before anyone connected
            pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        with pytest.raises(ssh.Unreachable) as caught:
            ssh.scan_host_key("127.0.0.1", listener.getsockname()[1], timeout=1)
        # The TCP connection was made: it is the missing handshake that ended the wait.
        assert str(caught.value).startswith(f"127.0.0.1:{listener.getsockname()[1]}: no SSH handshake within 1 s")
        assert wait_until(lambda: accepted, "the listener to have accepted the connection")
    finally:
        listener.close()
        for conn, _ in accepted:
            conn.close()


def test_shell_metacharacters_reach_the_node_as_one_literal_argument(sandbox):
    node_dir = Path(node(sandbox, "dea3")["dir"])
    file_name = "x; touch pwned $(id) `id` \"q\" 'single'\n* ? &|<>"
    target = node_dir / file_name
    before = set(node_dir.iterdir())
    with session(sandbox, "dea3") as s:
        assert s.run(["printf", "%s", NASTY]).stdout == NASTY
        assert s.run(["touch", str(target)]).exit_code == 0
    try:
        assert set(node_dir.iterdir()) - before == {target}  # that exact file, nothing else
    finally:
        target.unlink()


def test_a_command_that_outlives_its_timeout_is_cut_off(sandbox):
    with session(sandbox, "dea1") as s:
        # Cut off, not finished: a finished `sleep 30` would return exit code 0 and raise nothing.
        with pytest.raises(ssh.CommandTimeout) as caught:
            s.run(["sleep", "30"], timeout=1)
        assert "sleep 30" in str(caught.value)
        assert s.run(["true"]).exit_code == 0  # the connection itself is still good


def test_output_is_capped_and_decoded_leniently(sandbox):
    with session(sandbox, "dea1") as s:
        big = s.run(["head", "-c", str(ssh.OUTPUT_CAP + 4096), "/dev/zero"])
        assert big.truncated and len(big.stdout) == ssh.OUTPUT_CAP and big.exit_code == 0
        assert s.run(["printf", "caf\\351 \\342\\234\\223"]).stdout == "caf\ufffd \u2713"


def test_the_pool_reuses_one_connection_per_node(sandbox):
    with SessionPool(private_key_path=sandbox["client_key"], connect_timeout=CONNECT_TIMEOUT) as pool:
        s = pool.get(endpoint(sandbox, "dea1"))
        first = s.run(["sh", "-c", "echo $SSH_CONNECTION"]).stdout
        transport = s.transport
        assert pool.get(endpoint(sandbox, "dea1")) is s
        second = s.run(["sh", "-c", "echo $SSH_CONNECTION"]).stdout
        assert s.transport is transport
        assert first == second  # same client port: sshd saw one connection
        other = pool.get(endpoint(sandbox, "dea2"))
        assert other is not s and other.run(["true"]).exit_code == 0
    assert not transport.is_active()


def test_a_key_the_node_does_not_accept_fails_authentication(sandbox, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "stranger")], check=True)
    with pytest.raises(ssh.AuthenticationFailed) as caught:
        session(sandbox, "dea1", private_key_path=tmp_path / "stranger").run(["true"])
    assert "PRIVATE KEY" not in str(caught.value)
    with pytest.raises(ssh.AuthenticationFailed, match="does not exist"):
        session(sandbox, "dea1", private_key_path=tmp_path / "missing").run(["true"])


class _RefusingServer(paramiko.ServerInterface):
    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        return paramiko.common.AUTH_FAILED


def _serve_with_host_keys(host_keys):
    """A paramiko SSH server on 127.0.0.1 offering several host keys (refusing every login)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            for key in host_keys:
                transport.add_server_key(key)
            try:
                transport.start_server(server=_RefusingServer())
            except Exception:  # the client hanging up mid-handshake is the point of some checks
                transport.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_a_node_with_several_host_keys_is_held_to_the_pinned_one(sandbox, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "ed")], check=True)
    ed25519, rsa = paramiko.PKey.from_path(tmp_path / "ed"), paramiko.RSAKey.generate(2048)
    listener = _serve_with_host_keys([ed25519, rsa])
    port = listener.getsockname()[1]
    try:
        # Pinned RSA: the RSA key is negotiated even though ed25519 is preferred,
        # so the check passes and we get as far as (refused) authentication.
        pinned_rsa = Endpoint("127.0.0.1", port, "root", HostKey.from_pkey(rsa))
        with pytest.raises(ssh.AuthenticationFailed):
            Session(pinned_rsa, private_key_path=sandbox["client_key"], connect_timeout=5).run(["true"])
        # A different RSA key pinned: refused, and the key it names is the node's RSA key.
        other = HostKey.from_pkey(paramiko.RSAKey.generate(2048))
        with pytest.raises(ssh.HostKeyChanged) as caught:
            Session(Endpoint("127.0.0.1", port, "root", other), private_key_path=sandbox["client_key"],
                    connect_timeout=5).run(["true"])
        assert caught.value.presented == HostKey.from_pkey(rsa)
    finally:
        listener.close()


def test_the_ssh_agent_can_hold_the_key(sandbox, tmp_path, monkeypatch):
    agent_socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(agent_socket)], stdout=subprocess.DEVNULL)
    try:
        wait_until(agent_socket.exists, "ssh-agent's socket", timeout=5, interval=0.05)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(agent_socket))
        subprocess.run(["ssh-add", "-q", sandbox["client_key"]], check=True, capture_output=True)
        with session(sandbox, "dea1", private_key_path="/nonexistent", use_agent=True) as s:
            assert s.run(["true"]).exit_code == 0
    finally:
        agent.terminate()
        agent.wait(5)
