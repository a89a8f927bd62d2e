"""fence's pid, state and start time, from the node's own supervisord.

Stackato runs its processes under supervisord and lists port 9001 for it;
supervisord documents an XML-RPC interface (`supervisor.getProcessInfo`)
that gives exactly what kato's text does not: pid, state and start time.
The request travels inside the node's pinned SSH connection as a
direct-tcpip channel to the node's own address, port 9001 (ssh.Session.
open_local_port): no port is opened to the console and nothing is trusted
beyond the host key already pinned.

Start times are the node's clock. supervisord also says what time it is
(`now`), so a start time is turned into the console's clock by its age
(now - start), never by comparing two machines' clocks.
"""
import base64
import http.client
import io
import socket
# The stdlib XML-RPC client: supervisord speaks XML-RPC, and the only peer is
# the node's own supervisord behind the pinned SSH host key (defusedxml is
# not a dependency of this project, so its xmlrpc patch is not applied).
import xmlrpc.client  # noqa: S411 - peer is the node's supervisord over the pinned SSH transport
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import paramiko

from nodes.ssh import ConnectionLost, RemoteCommandError

SUPERVISOR_PORT = 9001  # Stackato's port list: supervisord on every node
RPC_TIMEOUT = 15
# supervisord's process states (supervisor.states.ProcessStates).
STATES = frozenset({"STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"})
_MAX_RESPONSE = 1024 * 1024


class SupervisorError(RemoteCommandError):
    """supervisord answered, but with a fault or something that is not a process record."""


@dataclass(frozen=True)
class ProcessInfo:
    name: str
    state: str  # supervisord's statename
    pid: int | None  # None unless the process is running
    started: datetime | None  # on the console's clock (see the module docstring); None if never started
    spawn_error: str = ""

    @property
    def running(self) -> bool:
        return self.state == "RUNNING" and self.pid is not None


class _ChannelReader(io.RawIOBase):
    """The channel's input as a file, for http.client's response parser."""

    def __init__(self, channel):
        self._channel, self._left = channel, _MAX_RESPONSE

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._left <= 0:
            raise OSError(f"supervisord's answer is over {_MAX_RESPONSE} bytes")
        data = self._channel.recv(min(len(buffer), self._left))
        self._left -= len(data)
        buffer[:len(data)] = data
        return len(data)


class _ChannelSocket:
    """Just enough of a socket for http.client: sendall, makefile, close."""

    def __init__(self, channel):
        self._channel = channel

    def sendall(self, data):
        self._channel.sendall(data)

    def makefile(self, mode="rb", *args, **kwargs):
        return io.BufferedReader(_ChannelReader(self._channel))

    def close(self):
        self._channel.close()


class _ChannelConnection(http.client.HTTPConnection):
    def __init__(self, open_channel, timeout):
        super().__init__("localhost", SUPERVISOR_PORT, timeout=timeout)
        self._open_channel = open_channel

    def connect(self):
        self.sock = _ChannelSocket(self._open_channel())


class _ChannelTransport(xmlrpc.client.Transport):
    """xmlrpc.client over an SSH channel instead of a TCP socket of our own."""

    def __init__(self, open_channel, timeout, login: tuple[str, str] | None = None):
        super().__init__()
        self._open_channel, self._timeout, self._login = open_channel, timeout, login

    def make_connection(self, host):
        # The login goes in a header of our own, never in the URL (which
        # xmlrpc.client would carry around and could show).
        self._extra_headers = []
        if self._login:
            token = base64.b64encode(":".join(self._login).encode()).decode("ascii")
            self._extra_headers = [("Authorization", f"Basic {token}")]
        return _ChannelConnection(self._open_channel, self._timeout)


class Supervisor:
    """The supervisord of the node `session` is connected to."""

    def __init__(self, session, *, port: int = SUPERVISOR_PORT, timeout: float = RPC_TIMEOUT,
                 login: tuple[str, str] | None = None):
        """login: (username, password) for supervisord's inet_http_server;
        None: settings.SUPERVISOR_USERNAME/PASSWORD when both are set, else
        none is sent (assumed, unconfirmed, to be what Stackato's needs)."""
        self.session, self.port, self.timeout = session, port, timeout
        self._login = _configured_login() if login is None else login

    def _where(self) -> str:
        return f"{self.session.endpoint.address}:{self.port}"

    def _proxy(self):
        transport = _ChannelTransport(lambda: self.session.open_local_port(self.port, timeout=self.timeout),
                                      self.timeout, self._login or None)
        return xmlrpc.client.ServerProxy(f"http://{self.session.endpoint.address}:{self.port}/RPC2",
                                         transport=transport)

    def _call(self, method: str, *args):
        try:
            return getattr(self._proxy().supervisor, method)(*args)
        except xmlrpc.client.Fault as fault:
            raise SupervisorError(f"supervisord at {self._where()}: {method}{args!r} failed: "
                                  f"{fault.faultString} (fault {fault.faultCode})") from None
        except xmlrpc.client.ProtocolError as error:
            login = ("with the configured SUPERVISOR_USERNAME" if self._login
                     else "without a login (set SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD if it needs one)")
            raise SupervisorError(f"supervisord at {self._where()} answered HTTP {error.errcode} "
                                  f"{error.errmsg} {login}: is port {self.port} supervisord's inet_http_server?") \
                from None
        except (xmlrpc.client.ResponseError, http.client.HTTPException, ValueError) as error:
            raise SupervisorError(f"{self._where()} did not answer as supervisord's XML-RPC does: "
                                  f"{error.__class__.__name__}: {error}") from None
        except (socket.timeout, TimeoutError, paramiko.SSHException, EOFError, OSError) as error:
            raise ConnectionLost(f"supervisord XML-RPC {method} did not complete: {error or error.__class__.__name__}",
                                 self.session.endpoint.address, self.port) from None

    def process_info(self, name: str) -> ProcessInfo:
        info = self._call("getProcessInfo", name)
        return parse_process_info(info, self._where(), console_now=datetime.now(timezone.utc))


def _configured_login() -> tuple[str, str] | tuple[()]:
    from django.conf import settings
    username, password = settings.SUPERVISOR_USERNAME, settings.SUPERVISOR_PASSWORD
    return (username, password) if username and password else ()


def parse_process_info(info, where: str, *, console_now: datetime) -> ProcessInfo:
    """A getProcessInfo record as a ProcessInfo; SupervisorError when it is not one."""
    try:
        name, state, pid = str(info["name"]), str(info["statename"]), int(info["pid"])
        start, now = int(info["start"]), int(info["now"])
    except (KeyError, TypeError, ValueError):
        raise SupervisorError(f"supervisord at {where} returned no process record: {info!r:.200}") from None
    if state not in STATES:
        state = "UNKNOWN"  # a state this client does not know counts as not running
    # supervisord keeps `start` after the process stops; pid is 0 when none runs.
    started = console_now - timedelta(seconds=max(now - start, 0)) if start > 0 else None
    return ProcessInfo(name, state, pid or None, started, str(info.get("spawnerr") or ""))
