"""The registry client never follows a redirect, and a pagination Link is
followed only on the same scheme, host and port. Two real HTTP servers on
127.0.0.1: "registry" answers as told, "elsewhere" records any request that
reaches it (none may)."""
import http.server
import threading

import pytest

from images import registry


class _Server:
    def __init__(self):
        self.hits, self.routes = [], {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body=True):
                outer.hits.append(self.path)
                status, headers, content = outer.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def do_GET(self):
                self._answer()

            def do_HEAD(self):
                self._answer(body=False)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.location = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    reg, elsewhere = _Server(), _Server()
    elsewhere.routes["/v2/_catalog?n=1000"] = (200, {}, b'{"repositories": ["stolen"]}')
    yield reg, elsewhere
    reg.close()
    elsewhere.close()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_an_error_and_not_followed(servers, status):
    reg, elsewhere = servers
    reg.routes["/v2/_catalog?n=1000"] = (status, {"Location": f"http://{elsewhere.location}/v2/_catalog?n=1000"}, b"")
    reg.routes["/v2/app/manifests/1.0"] = (status, {"Location": f"http://{elsewhere.location}/v2/app/manifests/1.0"}, b"")
    with pytest.raises(registry.RegistryError, match="redirects are not followed"):
        registry.repositories(reg.location)
    with pytest.raises(registry.RegistryError, match="redirects are not followed"):
        registry.manifest_digest(reg.location, "app", "1.0")
    assert elsewhere.hits == []


@pytest.mark.parametrize("link", ["<http://{other}/v2/_catalog?n=1000>", "<//{other}/v2/_catalog?n=1000>",
                                  "<https://{here}/v2/_catalog?last=a>", "<http://user@{here_host}:1/v2/_catalog>"])
def test_a_next_link_to_another_place_is_an_error(servers, link):
    reg, elsewhere = servers
    link = link.format(other=elsewhere.location, here=reg.location, here_host="127.0.0.1")
    reg.routes["/v2/_catalog?n=1000"] = (200, {"Link": f'{link}; rel="next"'}, b'{"repositories": ["app"]}')
    with pytest.raises(registry.RegistryError, match="not on the same registry"):
        registry.repositories(reg.location)
    assert elsewhere.hits == []


def test_an_at_sign_link_stays_on_the_registry(servers):
    """`<@host/...>` once became http://<registry>@host/...: a request to host."""
    reg, elsewhere = servers
    reg.routes["/v2/_catalog?n=1000"] = (
        200, {"Link": f'<@{elsewhere.location}/v2/_catalog?n=1000>; rel="next"'}, b'{"repositories": ["app"]}')
    # Resolved against the page it came from, it is a (missing) path of the same registry.
    assert registry.repositories(reg.location) == ["app"]
    assert elsewhere.hits == [] and reg.hits == ["/v2/_catalog?n=1000", f"/v2/@{elsewhere.location}/v2/_catalog?n=1000"]


def test_same_registry_links_are_followed(servers):
    reg, _ = servers
    reg.routes["/v2/_catalog?n=1000"] = (200, {"Link": '</v2/_catalog?last=app&n=1000>; rel="next"'},
                                         b'{"repositories": ["app"]}')
    reg.routes["/v2/_catalog?last=app&n=1000"] = (
        200, {"Link": f'<http://{reg.location}/v2/_catalog?last=base&n=1000>; rel="next"'}, b'{"repositories": ["base"]}')
    reg.routes["/v2/_catalog?last=base&n=1000"] = (200, {}, b'{"repositories": ["zeta"]}')
    assert registry.repositories(reg.location) == ["app", "base", "zeta"]
