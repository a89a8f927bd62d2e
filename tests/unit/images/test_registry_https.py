"""A registry not declared insecure is spoken to over HTTPS and needs no
insecure-registries entry on any DEA (images/registry.py scheme(),
images/registry_trust.py); one declared insecure (INSECURE_REGISTRIES) is
spoken to over plain HTTP and judged by each engine's settings. Real servers
on 127.0.0.1: one with TLS (a certificate made here, trusted through
SSL_CERT_FILE), one without. The suite declares 127.0.0.0/8 insecure
(tests/conftest.py): each test here says what it declares."""
import http.server
import ssl
import threading

import pytest
from support.self_signed import certificate

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


def serve(tls: tuple | None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def tls(tmp_path, settings):
    settings.INSECURE_REGISTRIES = []  # nothing declared insecure
    return certificate(tmp_path)


@pytest.fixture
def https_registry(tls, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))  # the console trusts the registry's certificate
    server, location = serve(tls)
    yield location
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_registry(settings):
    server, location = serve(None)
    settings.INSECURE_REGISTRIES = [location]  # the operator declared it
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
