"""nodes.ssh without a network: host key values, argv quoting and refusal,
endpoint validation, error wording, the pool's bookkeeping."""
import base64
import subprocess

import pytest

from nodes import ssh
from nodes.ssh import BadArgument, Endpoint, HostKey, Session, SessionPool

NASTY = "; rm -rf / $(id) `id` \"quotes\" 'single' newline\n * ? \\ | & > < ~ {a,b} $HOME ! #x %s"


def keygen(tmp_path, key_type, bits=None):
    path = tmp_path / f"id_{key_type}"
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, *(["-b", str(bits)] if bits else []),
                    "-N", "", "-C", "someone@somewhere", "-f", str(path)], check=True)
    return path


def ssh_keygen_fingerprint(pub_path):
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub_path)],
                         check=True, capture_output=True, text=True).stdout
    return out.split()[1]


@pytest.mark.parametrize("key_type,bits", [("ed25519", None), ("rsa", 2048), ("ecdsa", 256), ("ecdsa", 521)])
def test_fingerprint_is_what_ssh_keygen_prints(tmp_path, key_type, bits):
    pub = keygen(tmp_path, key_type, bits).with_suffix(".pub")
    key = HostKey.from_openssh_line(pub.read_text())
    assert key.fingerprint == ssh_keygen_fingerprint(pub)
    assert key.fingerprint.startswith("SHA256:") and not key.fingerprint.endswith("=")
    assert key.openssh_line() == " ".join(pub.read_text().split()[:2])


def test_a_host_key_survives_the_round_trip_through_paramiko(tmp_path):
    import paramiko

    private = paramiko.PKey.from_path(keygen(tmp_path, "ed25519"))
    key = HostKey.from_pkey(private)
    assert key == HostKey.from_openssh_line(f"{key.key_type} {key.key_base64} comment words")


@pytest.mark.parametrize("line", [
    "", "ssh-ed25519", "ssh-ed25519 not*base64", "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
    "ssh-ed25519 " + base64.b64encode(b"garbage that is no key").decode(),
])
def test_lines_that_are_not_public_keys_are_refused(line):
    with pytest.raises(ValueError):
        HostKey.from_openssh_line(line)


def test_a_key_labelled_with_another_type_is_refused(tmp_path):
    blob = HostKey.from_openssh_line(keygen(tmp_path, "ed25519").with_suffix(".pub").read_text()).key_base64
    with pytest.raises(ValueError):
        HostKey("ssh-rsa", blob)


@pytest.mark.parametrize("arg", [NASTY, "", "-n", "--", "x'y", 'x"y', "é ✓", "trailing\\"])
def test_each_argument_reaches_a_posix_shell_as_one_literal_word(arg):
    line = ssh.command_line(["printf", "%s", arg])
    assert subprocess.run(["sh", "-c", line], capture_output=True, text=True).stdout == arg
    assert subprocess.run(["bash", "-c", line], capture_output=True, text=True).stdout == arg


@pytest.mark.parametrize("argv", [
    "ls -l",               # a shell string, not a list
    b"ls",
    [],
    None,
    ["ls", 3],
    ["ls", b"bytes"],
    ["printf", "a\0b"],
    [""],
    ["echo", "x" * (ssh.MAX_COMMAND_LENGTH + 1)],
])
def test_bad_argv_is_refused(argv):
    with pytest.raises(BadArgument) as caught:
        ssh.command_line(argv)
    assert isinstance(caught.value, ValueError)


def test_bad_argv_is_refused_before_connecting():
    # Port 9 on a loopback address nobody listens on: connecting would raise Unreachable.
    session = Session(Endpoint("127.0.0.1", 9, "root", None), private_key_path="/nonexistent")
    with pytest.raises(BadArgument):
        session.run("touch /tmp/pwned")
    assert session.transport is None


@pytest.mark.parametrize("kwargs", [
    dict(address="", port=22, user="root"),
    dict(address="10.0.0.1 ; x", port=22, user="root"),
    dict(address="10.0.0.1", port=0, user="root"),
    dict(address="10.0.0.1", port=65536, user="root"),
    dict(address="10.0.0.1", port="22", user="root"),
    dict(address="10.0.0.1", port=22, user=""),
    dict(address="10.0.0.1", port=22, user="ro ot"),
])
def test_bad_endpoints_are_refused(kwargs):
    with pytest.raises(ValueError):
        Endpoint(host_key=None, **kwargs)


def test_errors_are_one_line_naming_the_node_and_both_fingerprints(tmp_path):
    old = HostKey.from_openssh_line(keygen(tmp_path, "ed25519").with_suffix(".pub").read_text())
    (tmp_path / "second").mkdir()
    new = HostKey.from_openssh_line(keygen(tmp_path / "second", "ed25519").with_suffix(".pub").read_text())
    changed = ssh.HostKeyChanged(old, new, "10.0.0.7", 2222)
    assert str(changed).startswith("10.0.0.7:2222: ")
    assert old.fingerprint in str(changed) and new.fingerprint in str(changed)
    assert (changed.pinned, changed.presented) == (old, new)
    unknown = ssh.HostKeyUnknown(new, "10.0.0.7", 22)
    assert new.fingerprint in str(unknown) and "\n" not in str(unknown)
    assert isinstance(changed, ssh.SSHError) and not isinstance(ssh.CommandFailed("x"), ssh.SSHError)


def test_the_pool_hands_out_one_session_per_endpoint():
    a = Endpoint("10.0.0.1", 22, "root", None)
    with SessionPool(connect_timeout=3) as pool:
        first = pool.get(a)
        assert pool.get(Endpoint("10.0.0.1", 22, "root", None)) is first
        assert pool.get(Endpoint("10.0.0.2", 22, "root", None)) is not first
        assert first.connect_timeout == 3
    assert pool.get(a) is not first  # closed and forgotten on exit


def test_excerpt_is_one_bounded_line():
    assert ssh.excerpt("a\n\n  b  \nc") == "a | b | c"
    assert len(ssh.excerpt("x" * 1000, limit=50)) == 53
