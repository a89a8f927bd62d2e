"""The console speaks plain HTTP to a registry only when the operator declared
it insecure (INSECURE_REGISTRIES). A TLS handshake that fails (reset, garbled,
answered in plain HTTP, a certificate not trusted) is a clear error and never
a reason to send the request in clear. One real server on 127.0.0.1 stands in
for the registry and whatever sits on the path to it: it records every
plain-HTTP request that reaches it, so "no HTTP fallback" is what it saw.
The suite declares 127.0.0.0/8 insecure (tests/conftest.py): each test here
says what it declares."""
import contextlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.self_signed import certificate

from images import registry
from images.promotion import skopeo

DIGEST = "sha256:" + "e" * 64
PROJECT = Path(__file__).resolve().parents[3]


class PathServer:
    """Answers a TLS ClientHello as told (mode) and any plain-HTTP request as a
    registry would, recording it. Modes: "reset" (RST mid-handshake, as a
    middlebox), "garbled" (bytes that are not TLS), "plain" (a plain-HTTP
    registry's 400 answer), "tls" (a real handshake with context)."""

    def __init__(self, mode: str, context: ssl.SSLContext | None = None):
        self.mode, self.context = mode, context
        self.requests: list[tuple[str, str]] = []  # (scheme, request line)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.location = f"127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket):
        with contextlib.suppress(OSError), conn:
            conn.settimeout(10)
            first = conn.recv(1, socket.MSG_PEEK)
            if first != b"\x16":  # not a TLS record: a plain-HTTP request
                self._answer(conn, "http")
            elif self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
            elif self.mode == "garbled":
                conn.recv(4096)
                conn.sendall(b"\x00garbled by the path\r\n" * 8)
            elif self.mode == "plain":
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
            else:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    self._answer(tls, "https")

    def _answer(self, conn, scheme: str):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        self.requests.append((scheme, line))
        method, path = line.split(" ")[:2]
        ok = path in ("/v2/", "/v2/team/app/manifests/1.0")
        body = b"{}" if method != "HEAD" else b""
        conn.sendall((f"HTTP/1.1 {'200 OK' if ok else '404 Not Found'}\r\nContent-Length: 2\r\n"
                      f"Docker-Content-Digest: {DIGEST}\r\nConnection: close\r\n\r\n").encode() + body)


@pytest.fixture
def path_server():
    servers = []

    def start(mode, context=None):
        servers.append(PathServer(mode, context))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


@pytest.fixture
def tls_context(tmp_path):
    cert, key = certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.parametrize("mode", ["reset", "garbled", "plain"])
def test_a_failed_handshake_with_a_registry_not_declared_insecure_is_an_error_and_nothing_goes_in_clear(
        path_server, settings, mode):
    settings.INSECURE_REGISTRIES = ["10.0.0.5:5000", "192.168.0.0/16"]  # others are; this one is not
    server = path_server(mode)
    assert registry.scheme(server.location) == "https"
    for ask in (lambda: registry.ping(server.location),
                lambda: registry.manifest_digest(server.location, "team/app", "1.0"),
                lambda: registry.tags(server.location, "team/app")):
        with pytest.raises(registry.TLSHandshakeFailed) as failure:
            ask()
        message = str(failure.value)
        assert message.startswith(f"TLS handshake with {server.location} failed: "), message
        assert f"declare it insecure (INSECURE_REGISTRIES={server.location}" in message
    assert server.requests == []  # not one request in plain HTTP


def test_a_registry_declared_insecure_is_spoken_to_in_plain_http(path_server, settings):
    server = path_server("reset")  # what it does to a TLS handshake does not matter: none is tried
    settings.INSECURE_REGISTRIES = [server.location]
    assert registry.scheme(server.location) == "http"
    registry.ping(server.location)
    assert registry.manifest_digest(server.location, "team/app", "1.0") == DIGEST
    assert server.requests == [("http", "GET /v2/ HTTP/1.1"), ("http", "HEAD /v2/team/app/manifests/1.0 HTTP/1.1")]


def test_a_registry_inside_a_declared_range_is_spoken_to_in_plain_http(path_server, settings):
    server = path_server("plain")
    settings.INSECURE_REGISTRIES = ["127.0.0.0/8"]
    registry.ping(server.location)
    assert server.requests == [("http", "GET /v2/ HTTP/1.1")]


def test_a_self_signed_registry_is_spoken_to_over_verified_https_only(path_server, settings, tls_context,
                                                                      monkeypatch):
    cert, context = tls_context
    settings.INSECURE_REGISTRIES = []
    server = path_server("tls", context)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(registry.RegistryUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        registry.ping(server.location)
    assert server.requests == []  # refused over TLS, not asked again in clear
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the operator trusts its CA
    registry.ping(server.location)
    assert server.requests == [("https", "GET /v2/ HTTP/1.1")]


@pytest.mark.parametrize("declared, location, insecure", [
    (["10.0.0.5:5000"], "10.0.0.5:5000", True),
    (["10.0.0.5:5000"], "10.0.0.5:5001", False),  # another port is another registry
    (["10.0.0.0/24"], "10.0.0.5:5000", True),
    (["10.0.0.0/24"], "10.0.1.5:5000", False),
    (["10.0.0.0/24"], "registry.internal:5000", False),  # a name is not resolved to match a range
    (["Registry.Internal:5000"], "registry.internal:5000", True),
    (["fd00::/8"], "[fd00::5]:5000", True),
    ([], "127.0.0.1:5000", False),
])
def test_which_locations_are_declared_insecure(settings, declared, location, insecure):
    settings.INSECURE_REGISTRIES = declared
    assert registry.declared_insecure(location) is insecure
    assert registry.scheme(location) == ("http" if insecure else "https")


@pytest.mark.parametrize("entry", ["10.0.0.5", "http://10.0.0.5:5000", "10.0.0.0/33", "10.0.0.5:5000/v2"])
def test_a_bad_insecure_registries_entry_stops_the_console_at_start(entry):
    """Read when settings load: the web server and every worker refuse to
    start, naming the entry, instead of a page or a job failing later."""
    env = {**os.environ, "INSECURE_REGISTRIES": f"10.0.0.5:5000,{entry}"}
    started = subprocess.run([sys.executable, "-c", "from stackato_dash import settings"], cwd=PROJECT, env=env,  # noqa: S603 - fixed argv
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert f"ImproperlyConfigured: INSECURE_REGISTRIES: {entry!r} is neither host:port nor an address range" in (
        started.stderr)


def test_skopeo_skips_tls_verification_only_for_a_declared_registry(settings):
    settings.INSECURE_REGISTRIES = ["10.0.0.5:5000"]
    argv = skopeo.command("10.0.0.5:5000", "10.0.0.6:5000", "team/app", DIGEST, "1.0")
    assert {"--src-tls-verify=false", "--dest-tls-verify=true"} <= set(argv)
