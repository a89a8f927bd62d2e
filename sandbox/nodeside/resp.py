"""A minimal Redis (RESP2) client for fence: GET, SUBSCRIBE, wait for a message.

fence must finish its start checks well inside supervisord's startsecs
(2 s, of which supervisord's 1 s poll tick eats one), or a failed start is
taken for a running fence and restarted instead of ending FATAL. Importing redis-py costs 0.15-0.3 s (it pulls in asyncio),
and 3.0.1+ restarts every DEA's fence at the same moment; this client
costs nothing to import. kato, which has no such deadline, uses redis-py.
"""
import select
import socket


class RespError(Exception):
    """An error reply from the server, or a reply this client cannot parse."""


class RespClient:
    def __init__(self, host, port, timeout=5.0, password=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        if password:
            self.command("AUTH", password)

    def close(self):
        self.sock.close()

    def command(self, *args):
        self.send(*args)
        return self.read()

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("config_redis closed the connection")
        self.buf += chunk

    def _line(self):
        while (end := self.buf.find(b"\r\n")) < 0:
            self._more()
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def _exactly(self, n):
        while len(self.buf) < n + 2:
            self._more()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exactly(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError(f"unexpected reply {line[:60]!r}")

    def wait_message(self, timeout):
        """On a subscribed connection: the next message's data, or None after timeout."""
        if not self.buf and not select.select([self.sock], [], [], timeout)[0]:
            return None
        reply = self.read()
        if isinstance(reply, list) and reply and reply[0] == "message":
            return reply[2]
        return None  # (un)subscribe confirmations
