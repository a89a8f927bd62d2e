"""The one place every remote command goes through (DESIGN.md section 3).

A command is a list of arguments, validated and joined with shlex.quote, so
no caller ever hands a shell string to a node. A connection is refused
before authentication unless the node presents exactly the host key pinned
for it: there is no trust-on-first-use, no AutoAddPolicy, no known_hosts
file. Plain values in, plain values out: nothing here imports the models.
"""
import base64
import hashlib
import select
import shlex
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import paramiko

CONNECT_TIMEOUT = 10
COMMAND_TIMEOUT = 120
OUTPUT_CAP = 1024 * 1024  # bytes kept per stream; the rest is read and dropped
MAX_COMMAND_LENGTH = 64 * 1024

# The host key algorithms that prove possession of a key of each type.
# Offering only these during key exchange stops a server that holds several
# host keys from answering with one that is not pinned.
_ALGORITHMS = {
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256"),
}
KEY_TYPES = tuple(_ALGORITHMS)


class SSHError(Exception):
    """We could not run the command (a job reports it as `errored`).

    str() is one operator-readable line that starts with the node's address:port.
    """

    def __init__(self, detail: str, address: str | None = None, port: int | None = None):
        self.detail, self.address, self.port = detail, address, port
        super().__init__(f"{address}:{port}: {detail}" if address else detail)


class HostKeyUnknown(SSHError):
    def __init__(self, presented: "HostKey", address: str, port: int):
        self.presented = presented
        super().__init__(f"host key not trusted yet: the node presents {presented.key_type} "
                         f"{presented.fingerprint}; trust it from the admin after checking it", address, port)


class HostKeyChanged(SSHError):
    def __init__(self, pinned: "HostKey", presented: "HostKey | None", address: str, port: int):
        self.pinned, self.presented = pinned, presented
        shown = f"{presented.key_type} {presented.fingerprint}" if presented else "no key of the pinned type"
        super().__init__(f"HOST KEY CHANGED: pinned {pinned.key_type} {pinned.fingerprint}, the node presents "
                         f"{shown}; refused (re-trust only if the node was really re-keyed)", address, port)


# The rest say what went wrong in their message; the class is for `except`.
class Unreachable(SSHError): """Refused, timed out, unresolvable, or no SSH handshake in time."""
class AuthenticationFailed(SSHError): """The node refused our key, or the key cannot be loaded."""
class ConnectionLost(SSHError): """The connection died while a command was starting or running."""
class CommandTimeout(SSHError): """The command did not finish in time; its channel was closed."""
class BadArgument(SSHError, ValueError): """The argv was refused before anything was sent."""
class PortClosed(SSHError): """The node's sshd could not connect a forwarded channel to the port."""


class RemoteCommandError(Exception):
    """The command ran but failed or printed what we cannot understand: a job
    reports it as `failed`, so it is deliberately not an SSHError."""

    def __init__(self, message: str, result: "CommandResult | None" = None):
        self.result = result
        super().__init__(message)


class CommandFailed(RemoteCommandError): """run(check=True) and the exit code was not 0."""


def excerpt(text: str, limit: int = 300) -> str:
    """One line of what a command printed, for error messages."""
    flat = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[:limit] + "..."


@dataclass(frozen=True)
class HostKey:
    key_type: str
    key_base64: str

    def __post_init__(self):
        if self.key_type not in _ALGORITHMS:
            raise ValueError(f"unsupported host key type {self.key_type!r} (supported: {', '.join(KEY_TYPES)})")
        try:
            blob = base64.b64decode(self.key_base64, validate=True)
            paramiko.PKey.from_type_string(self.key_type, blob)
        except Exception as exc:  # binascii.Error, UnknownKeyType, SSHException, struct errors...
            raise ValueError(f"not a valid {self.key_type} public key ({exc.__class__.__name__})") from None

    @property
    def blob(self) -> bytes:
        return base64.b64decode(self.key_base64)

    @property
    def fingerprint(self) -> str:
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")
        return f"SHA256:{digest}"

    @classmethod
    def from_openssh_line(cls, line: str) -> "HostKey":
        parts = line.strip().split(None, 2)
        if len(parts) < 2:
            raise ValueError("expected an OpenSSH public key line: '<type> <base64> [comment]'")
        return cls(parts[0], parts[1])

    @classmethod
    def from_pkey(cls, key: paramiko.PKey) -> "HostKey":
        return cls(key.get_name(), key.get_base64())

    def openssh_line(self) -> str:
        return f"{self.key_type} {self.key_base64}"


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int
    user: str
    host_key: HostKey | None  # None: not trusted yet, so every connection is refused

    def __post_init__(self):
        if not self.address or any(c.isspace() or c == "\0" for c in self.address):
            raise ValueError(f"bad SSH address {self.address!r}")
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"SSH port must be 1-65535, not {self.port!r}")
        if not self.user or any(c.isspace() or c == "\0" for c in self.user):
            raise ValueError(f"bad SSH user {self.user!r}")


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_code: int  # -1 when the node sent no exit status (e.g. killed by a signal)
    stdout: str
    stderr: str
    truncated: bool = False  # True when either stream passed OUTPUT_CAP


def command_line(argv: Sequence[str]) -> str:
    """The argv as one shell-safe string: each argument reaches the node literally."""
    if isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence) or not argv:
        raise BadArgument(f"a command is a non-empty list of strings, not {type(argv).__name__} {argv!r:.80}")
    for arg in argv:
        if not isinstance(arg, str):
            raise BadArgument(f"command arguments must be strings, not {type(arg).__name__} {arg!r:.80}")
        if "\0" in arg:
            raise BadArgument(f"command argument contains a NUL byte: {arg!r:.80}")
    if not argv[0]:
        raise BadArgument("the command name is empty")
    line = shlex.join(argv)
    if len(line) > MAX_COMMAND_LENGTH:
        raise BadArgument(f"command line is {len(line)} characters, over {MAX_COMMAND_LENGTH}")
    return line


def _handshake(address: str, port: int, timeout: float, key_types: Sequence[str] | None) -> paramiko.Transport:
    """A transport past key exchange (the host's signature checked), not authenticated."""
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:  # refused, timed out, no route, name does not resolve
        reason = f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else exc.strerror or exc
        raise Unreachable(f"unreachable: {reason}", address, port) from None
    transport = paramiko.Transport(sock)
    transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
    if key_types is not None:
        transport.get_security_options().key_types = list(key_types)
    # With an event, start_client returns at once and the wait is ours: without
    # one it gives up silently at its timeout, leaving a half-made transport.
    done, finished = threading.Event(), False
    try:
        transport.start_client(event=done)
        finished = done.wait(timeout)
        problem = None if finished and transport.is_active() else transport.get_exception()
    except (paramiko.SSHException, EOFError, OSError) as exc:
        problem = exc
    if finished and transport.is_active():
        return transport
    transport.close()
    if isinstance(problem, paramiko.ssh_exception.IncompatiblePeer):
        raise problem
    reason = (str(problem) or problem.__class__.__name__) if problem else "no answer"
    raise Unreachable(f"no SSH handshake within {timeout:g} s: {reason}", address, port)


def scan_host_key(address: str, port: int, timeout: float = CONNECT_TIMEOUT) -> HostKey:
    """The host key the node presents (no authentication), to show an operator before trusting it."""
    transport = _handshake(address, port, timeout, None)
    try:
        return HostKey.from_pkey(transport.get_remote_server_key())
    finally:
        transport.close()


class Session:
    """One verified, authenticated connection to a node, reused for many
    commands; (re)connects on first use, so a pool can hand it out unopened."""

    def __init__(self, endpoint: Endpoint, *, private_key_path=None, use_agent: bool = False,
                 connect_timeout: float = CONNECT_TIMEOUT, command_timeout: float = COMMAND_TIMEOUT):
        self.endpoint, self._key_path, self._use_agent = endpoint, private_key_path, use_agent
        self.connect_timeout, self.command_timeout = connect_timeout, command_timeout
        self.transport: paramiko.Transport | None = None

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def _error(self, cls, detail):
        return cls(detail, self.endpoint.address, self.endpoint.port)

    def connect(self) -> None:
        if self.transport is not None and self.transport.is_active():
            return
        self.close()
        ep, timeout = self.endpoint, self.connect_timeout
        if ep.host_key is None:
            raise HostKeyUnknown(scan_host_key(ep.address, ep.port, timeout), ep.address, ep.port)
        try:
            transport = _handshake(ep.address, ep.port, timeout, _ALGORITHMS[ep.host_key.key_type])
        except paramiko.ssh_exception.IncompatiblePeer:
            # No host key of the pinned type at all: that is a changed key too.
            try:
                presented = scan_host_key(ep.address, ep.port, timeout)
            except SSHError:
                presented = None
            raise HostKeyChanged(ep.host_key, presented, ep.address, ep.port) from None
        try:
            # Checked before authenticating: a wrong host never gets a signature or a command.
            presented = HostKey.from_pkey(transport.get_remote_server_key())
            if presented != ep.host_key:
                raise HostKeyChanged(ep.host_key, presented, ep.address, ep.port)
            self._authenticate(transport)
        except BaseException:
            transport.close()
            raise
        self.transport = transport

    def _authenticate(self, transport: paramiko.Transport) -> None:
        agent = paramiko.Agent() if self._use_agent else None
        try:
            for key in agent.get_keys() if agent else [self._load_key()]:
                try:
                    transport.auth_publickey(self.endpoint.user, key)
                except paramiko.AuthenticationException:
                    continue
                except (paramiko.SSHException, EOFError, OSError) as exc:
                    raise self._error(AuthenticationFailed, f"authentication aborted: {exc}") from None
                if transport.is_authenticated():
                    return
        finally:
            if agent:
                agent.close()
        source = "every key of the SSH agent" if agent else "the configured SSH key"
        raise self._error(AuthenticationFailed, f"user {self.endpoint.user} refused {source}")

    def _load_key(self) -> paramiko.PKey:
        path = self._key_path
        if path is None:
            from django.conf import settings
            path = settings.SSH_PRIVATE_KEY_PATH
        try:
            return paramiko.PKey.from_path(path)
        except FileNotFoundError:
            raise self._error(AuthenticationFailed, f"the SSH private key file {path} does not exist") from None
        except Exception as exc:  # name the kind of failure only: never echo key material
            raise self._error(AuthenticationFailed, f"the SSH private key {path} cannot be loaded "
                              f"({exc.__class__.__name__}; a passphrase-protected key needs the agent)") from None

    def run(self, argv: Sequence[str], *, timeout: float | None = None, check: bool = False,
            stdin: Iterable[bytes] | None = None) -> CommandResult:
        """stdin: chunks sent to the command's standard input, then EOF (e.g. a
        `docker save` stream into `docker load`)."""
        line = command_line(argv)  # refused before any network traffic
        timeout = self.command_timeout if timeout is None else timeout
        self.connect()
        try:
            channel = self.transport.open_session(timeout=self.connect_timeout)
            channel.exec_command(line)
            if stdin is not None:
                channel.settimeout(timeout)
                for chunk in stdin:
                    channel.sendall(chunk)
                channel.shutdown_write()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise self._error(ConnectionLost, f"could not start `{excerpt(line, 120)}`: {exc}") from None
        try:
            exit_code, out, err, truncated = self._collect(channel, line, timeout)
        finally:
            channel.close()
        result = CommandResult(tuple(argv), exit_code, out.decode("utf-8", errors="replace"),
                               err.decode("utf-8", errors="replace"), truncated)
        if check and exit_code != 0:
            raise CommandFailed(f"{self.endpoint.address}: `{excerpt(line, 120)}` exited {exit_code}: "
                                f"{excerpt(result.stderr or result.stdout)}", result)
        return result

    def open_local_port(self, port: int, *, timeout: float | None = None) -> paramiko.Channel:
        """A direct-tcpip channel to `port` on the node's own address, carried
        by this (pinned, authenticated) connection: reaches a service that
        listens only on the node, with no port opened to the console and no
        trust beyond the SSH host key."""
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise BadArgument(f"port must be 1-65535, not {port!r:.40}")
        timeout = self.command_timeout if timeout is None else timeout
        self.connect()
        address = self.endpoint.address
        try:
            channel = self.transport.open_channel("direct-tcpip", (address, port), ("127.0.0.1", 0),
                                                  timeout=self.connect_timeout)
        except paramiko.ChannelException as exc:  # sshd tried and the port refused (or forwarding is off)
            raise self._error(PortClosed, f"the node's sshd could not open {address}:{port} for us "
                              f"({exc.text or exc.code}): nothing listens there, or sshd forbids TCP forwarding") \
                from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise self._error(ConnectionLost, f"could not open a channel to {address}:{port}: {exc}") from None
        channel.settimeout(timeout)
        return channel

    def _collect(self, channel: paramiko.Channel, line: str, timeout: float):
        deadline = time.monotonic() + timeout
        channel.settimeout(timeout)
        out, err = bytearray(), bytearray()
        truncated = False
        def drain():
            nonlocal truncated
            for ready, read, buffer in ((channel.recv_ready, channel.recv, out),
                                        (channel.recv_stderr_ready, channel.recv_stderr, err)):
                while ready():
                    data = read(65536)
                    truncated |= len(buffer) + len(data) > OUTPUT_CAP
                    buffer += data[:max(OUTPUT_CAP - len(buffer), 0)]
        # select() on a channel wakes on stdout, stderr and EOF alike, so a
        # chatty stderr cannot stall the read of stdout (or the reverse).
        while not (channel.eof_received and not channel.recv_ready() and not channel.recv_stderr_ready()):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or channel.closed or not self.transport.is_active():
                break
            select.select([channel], [], [], min(remaining, 1.0))
            drain()
        # A command that ended before this thread looked (a busy machine) has its channel
        # closed, its output still buffered: unread, `docker inspect` "printed nothing".
        drain()
        if not channel.status_event.wait(max(deadline - time.monotonic(), 0)):
            raise self._error(CommandTimeout, f"`{excerpt(line, 120)}` did not finish within {timeout:g} s; "
                              "channel closed (the command may still be running on the node)")
        # A dead transport closes its channels too, but with no exit status (-1).
        if channel.exit_status == -1 and not self.transport.is_active():
            self.close()
            raise self._error(ConnectionLost, f"connection lost while running `{excerpt(line, 120)}`")
        return channel.recv_exit_status(), out, err, truncated

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class SessionPool:
    """One Session per endpoint for the length of a job; closed together."""

    def __init__(self, **session_options):
        self._options, self._sessions = session_options, {}

    def get(self, endpoint: Endpoint) -> Session:
        if endpoint not in self._sessions:
            self._sessions[endpoint] = Session(endpoint, **self._options)
        return self._sessions[endpoint]

    def close_all(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close_all()
