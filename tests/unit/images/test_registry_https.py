"""A registry that speaks HTTPS is spoken to over HTTPS and needs no
insecure-registries entry on any DEA (images/registry.py scheme(),
images/registry_trust.py); a plain-HTTP one is judged by each engine's
settings as before. Real servers on 127.0.0.1: one with TLS (a certificate
made here, trusted through SSL_CERT_FILE), one without."""
import contextlib
import datetime
import http.server
import ipaddress
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from images import registry
from images.rollouts import pull_check
from nodes.models import Cluster, Node

DIGEST = "sha256:" + "d" * 64
# What a DEA engine reports with no insecure setting and no loopback range:
# by Docker's rule it speaks to 127.0.0.1 over HTTPS only.
HTTPS_ONLY = {"IndexConfigs": {"docker.io": {"Name": "docker.io", "Secure": True, "Mirrors": []}},
              "InsecureRegistryCIDRs": [], "Mirrors": []}


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool):
        if self.path == "/v2/":
            status, headers = 200, {}
        elif self.path == "/v2/team/app/manifests/1.0":
            status, headers = 200, {"Docker-Content-Digest": DIGEST}
        else:
            status, headers = 404, {}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if body:
            self.wfile.write(b"{}")

    def do_GET(self):
        self._answer(body=True)

    def do_HEAD(self):
        self._answer(body=False)

    def log_message(self, *args):
        pass


def certificate(directory) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry on the core")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "registry.crt", directory / "registry.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def serve(tls: tuple | None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def tls(tmp_path, monkeypatch):
    # These tests are about what is said over TLS, not how fast the probe gives
    # up: on a loaded CI machine a handshake can outlast the 2 s probe and the
    # request would go out in plain HTTP (that case has its own test below).
    monkeypatch.setattr(registry, "TLS_PROBE_TIMEOUT", 30.0)
    return certificate(tmp_path)


@pytest.fixture
def https_registry(tls, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))  # the console trusts the registry's certificate
    server, location = serve(tls)
    yield location
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_registry():
    server, location = serve(None)
    yield location
    server.shutdown()
    server.server_close()


def test_an_https_registry_is_spoken_to_over_https(https_registry):
    assert registry.scheme(https_registry) == "https"
    registry.ping(https_registry)
    assert registry.manifest_digest(https_registry, "team/app", "1.0") == DIGEST


def test_a_plain_http_registry_is_spoken_to_over_http(http_registry):
    assert registry.scheme(http_registry) == "http"
    registry.ping(http_registry)
    assert registry.manifest_digest(http_registry, "team/app", "1.0") == DIGEST


def test_a_certificate_the_console_does_not_trust_is_a_clear_error(tls, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server, location = serve(tls)
    try:
        with pytest.raises(registry.RegistryUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            registry.ping(location)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
@pytest.mark.parametrize("served_over, blocked", [("https", False), ("http", True)])
def test_deas_need_no_insecure_setting_for_an_https_registry(request, served_over, blocked):
    location = request.getfixturevalue(f"{served_over}_registry")
    cluster = Cluster.objects.create(name="prod", core_address="127.0.0.1", registry=location)
    for address, config in (("127.0.0.12", HTTPS_ONLY), ("127.0.0.13", None)):  # the second never refreshed
        Node.objects.create(cluster=cluster, address=address, roles=["dea"], registry_config=config)
    found = pull_check.blocked_nodes(cluster, f"{location}/team/app:1.0")
    assert [node.address for node, _ in found] == (["127.0.0.12", "127.0.0.13"] if blocked else [])
    if blocked:
        assert f'"insecure-registries": ["{location}"]' in found[0][1].fix
        assert "refresh its facts" in found[1][1].why and found[1][1].fix == ""


def test_a_tls_handshake_too_slow_once_is_not_taken_for_plain_http_for_good(tls, monkeypatch):
    """On a loaded machine a TLS registry's handshake can outlast the probe.
    That says nothing about the scheme: remembered as plain HTTP, every later
    request would go over HTTP to a TLS port until the process restarts."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))
    monkeypatch.setattr(registry, "TLS_PROBE_TIMEOUT", 0.3)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls)
    listener = socket.create_server(("127.0.0.1", 0))
    location = f"127.0.0.1:{listener.getsockname()[1]}"
    held = []

    def accept():
        # The first connection's handshake is held (the slow one); later ones complete.
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if not held:
                held.append(conn)
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
                pass  # the handshake is all the probe asks for
    threading.Thread(target=accept, daemon=True).start()
    try:
        assert registry.scheme(location) == "http"  # the probe gave up on the held handshake
        assert registry.scheme(location) == "https"
    finally:
        listener.close()
        for conn in held:
            conn.close()
        registry._SCHEMES.pop(location, None)
