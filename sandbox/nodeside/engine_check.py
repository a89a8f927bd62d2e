"""Does a node's Docker engine hold an image? One Engine API call, no docker SDK.

fence asks this at every start, and supervisord calls a start failed (FATAL)
only if fence exits within startsecs (2 s, minus supervisord's 1 s tick).
Importing the docker SDK alone takes 0.3-0.6 s on the sandbox machines
(more when every DEA restarts at once), and a fence that fails too late is
restarted instead of ending FATAL. http.client over the engine's socket
costs ~5 ms.

`GET /images/<name>/json` answers 200 when the engine has the image (by
name:tag or id) and 404 when it does not, which is what the SDK's
images.get() reads too.
"""
import http.client
import json
import socket
from urllib.parse import quote, urlsplit

TIMEOUT = 10.0


class EngineError(Exception):
    """The engine could not be asked (down, bad DOCKER_HOST, odd answer)."""


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _connection(docker_host, timeout):
    url = urlsplit(docker_host)
    if url.scheme == "unix":
        return _UnixHTTPConnection(url.path, timeout)
    if url.scheme in ("tcp", "http"):
        return http.client.HTTPConnection(url.hostname, url.port or 2375, timeout=timeout)
    raise EngineError(f"unsupported DOCKER_HOST {docker_host!r} (unix:// or tcp:// only)")


def has_image(docker_host, image, timeout=TIMEOUT):
    """True / False, or EngineError when the engine cannot tell."""
    conn = _connection(docker_host, timeout)
    try:
        # same quoting as the docker SDK: the repository's slashes stay
        conn.request("GET", f"/images/{quote(image, safe='/:@')}/json")
        response = conn.getresponse()
        body = response.read()
    except OSError as exc:
        raise EngineError(f"engine at {docker_host} not answering: {exc}") from None
    finally:
        conn.close()
    if response.status == 200:
        return True
    if response.status == 404:
        return False
    try:
        message = json.loads(body).get("message", "")
    except ValueError:
        message = body[:200].decode("utf-8", "replace")
    raise EngineError(f"engine at {docker_host} answered {response.status}: {message}")
