"""A small client of the Docker registry HTTP API v2, no auth. A registry is
spoken to over HTTPS, its certificate checked against the system's CAs
(SSL_CERT_FILE names another bundle), unless the operator declared it
insecure (INSECURE_REGISTRIES, as Docker's daemon.json insecure-registries):
then over plain HTTP, as the seed's registry on the Core node speaks. Never
found by trying: a TLS handshake that fails (a reset, a middlebox, an
attacker on the path) is an error, not a reason to send the request in clear.
Names are validated before they go into a URL."""
import http.client
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

from images.references import PATH_RE, TAG_RE
from stackato_dash import insecure_registries

# Every manifest type a push can produce; the registry answers with the
# digest of the manifest it stores, whichever of these it is.
MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')
PAGES_MAX = 50
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RegistryError(Exception):
    """The registry answered something this client cannot use."""


class RegistryUnreachable(RegistryError):
    """Nothing (or no HTTP) answers at the registry's location."""


class TLSHandshakeFailed(RegistryError):
    """Something answers at a registry not declared insecure, but the TLS
    handshake with it failed: a plain-HTTP registry, or someone in between."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it is (a 3xx), never followed: a registry
    (or whatever answers at its location) must not send this client, which
    runs on the console's machine, to another host or port."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _HandshakeFailed(Exception):
    """Not an OSError, so urllib passes it through as it is (_request)."""


class _HandshakeCheckedConnection(http.client.HTTPSConnection):
    """HTTPSConnection.connect (no proxy tunnel here), with a failed TLS
    handshake told apart from a refused TCP connection or a failed request."""

    def connect(self):
        http.client.HTTPConnection.connect(self)
        try:
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)
        except ssl.SSLCertVerificationError:
            raise  # TLS works; the certificate is not trusted: said as before (RegistryUnreachable)
        except (ssl.SSLError, OSError) as error:  # a reset, EOF, an answer not in TLS, no answer in time
            self.sock.close()
            raise _HandshakeFailed(error) from None


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_HandshakeCheckedConnection, req, context=self._context)


def _opener():
    """No proxy: the registry is on the cluster's private network, and a proxy
    from the environment must not see (or break) these requests. A fresh TLS
    context each time, so SSL_CERT_FILE is read as it is now."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects(),
                                       _HTTPSHandler(context=ssl.create_default_context()))


def declared_insecure(location: str) -> bool:
    """Whether the operator's INSECURE_REGISTRIES names location (a host:port
    entry, or a range holding its IP address)."""
    return insecure_registries.covers(settings.INSECURE_REGISTRIES, location)


def scheme(location: str) -> str:
    """"http" only for a registry the operator declared insecure, as Docker
    speaks plain HTTP only to its insecure-registries; else "https"."""
    return "http" if declared_insecure(location) else "https"


def url(location: str, path: str) -> str:
    return f"{scheme(location)}://{location}{path}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict
    body: bytes


def _request(location: str, path: str, *, method: str = "GET", accept: str | None = None) -> Answer:
    if not path.startswith("/"):
        raise RegistryError(f"refusing a request path that does not start with '/': {path!r:.80}")
    headers = {"Accept": accept} if accept else {}
    request = urllib.request.Request(url(location, path), method=method, headers=headers)  # noqa: S310 - http(s) only
    try:
        with _opener().open(request, timeout=settings.REGISTRY_TIMEOUT) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            if 300 <= error.code < 400:
                where = (error.headers or {}).get("Location", "?")
                raise RegistryError(f"the registry at {location} redirected {path} to {where!r:.120} "
                                    f"(HTTP {error.code}): redirects are not followed") from None
            return Answer(error.code, dict(error.headers or {}), error.read() if method != "HEAD" else b"")
    except _HandshakeFailed as error:
        raise TLSHandshakeFailed(
            f"TLS handshake with {location} failed: {error.args[0]}; if this registry speaks plain HTTP, declare it "
            f"insecure (INSECURE_REGISTRIES={location} in the console's environment, README: Configuration)"
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise RegistryUnreachable(f"the registry at {location} does not answer ({reason})") from None


def _name(name: str) -> str:
    if not PATH_RE.fullmatch(name or ""):
        raise RegistryError(f"{name!r:.80} is not a repository name")
    return name


def _json(location: str, answer: Answer, what: str) -> dict:
    try:
        return json.loads(answer.body)
    except ValueError:
        raise RegistryError(f"the registry at {location} answered {what} with something that is not JSON") from None


def ping(location: str) -> None:
    """Raise unless a v2 registry that needs no login answers at location."""
    answer = _request(location, "/v2/")
    if answer.status == 401:
        raise RegistryError(f"the registry at {location} requires a login, which this console does not support")
    if answer.status != 200:
        raise RegistryError(f"{location} answered /v2/ with HTTP {answer.status}: not a Docker registry (v2 API)")


def manifest_digest(location: str, name: str, tag: str) -> str | None:
    """The registry's Docker-Content-Digest for name:tag, or None if it has no such tag."""
    if not TAG_RE.fullmatch(tag or ""):
        raise RegistryError(f"{tag!r:.80} is not a tag")
    answer = _request(location, f"/v2/{_name(name)}/manifests/{tag}", method="HEAD", accept=MANIFEST_TYPES)
    if answer.status == 404:
        return None
    if answer.status != 200:
        raise RegistryError(f"the registry at {location} answered HTTP {answer.status} for {name}:{tag}")
    digest = {k.lower(): v for k, v in answer.headers.items()}.get("docker-content-digest", "")
    if not _DIGEST.fullmatch(digest):
        raise RegistryError(f"the registry at {location} gave no usable Docker-Content-Digest for {name}:{tag}")
    return digest


def has_manifest(location: str, name: str, digest: str) -> bool:
    """Whether the registry holds a manifest with exactly this digest (a promotion's source)."""
    if not _DIGEST.fullmatch(digest or ""):
        raise RegistryError(f"{digest!r:.80} is not a sha256 digest")
    answer = _request(location, f"/v2/{_name(name)}/manifests/{digest}", method="HEAD", accept=MANIFEST_TYPES)
    if answer.status == 404:
        return False
    if answer.status != 200:
        raise RegistryError(f"the registry at {location} answered HTTP {answer.status} for {name}@{digest}")
    return True


def _paged(location: str, path: str, key: str) -> list[str]:
    items, pages = [], 0
    while path and pages < PAGES_MAX:
        answer = _request(location, path)
        if answer.status == 404:  # a repository with no tags left
            break
        if answer.status != 200:
            raise RegistryError(f"the registry at {location} answered HTTP {answer.status} for {path}")
        items += _json(location, answer, path).get(key) or []
        link = _NEXT_LINK.search({k.lower(): v for k, v in answer.headers.items()}.get("link", ""))
        path = _same_registry_path(location, path, link[1]) if link else None
        pages += 1
    return [item for item in items if isinstance(item, str)]


def _same_registry_path(location: str, current: str, link: str) -> str:
    """The next page's path, resolved as a browser would against the page that
    gave it; a link to another scheme, host or port is an error, not a request."""
    base = url(location, current)
    target = urllib.parse.urlsplit(urllib.parse.urljoin(base, link))
    here = urllib.parse.urlsplit(base)
    try:
        same = ((target.scheme, target.hostname, target.port or _DEFAULT_PORTS.get(target.scheme))
                == (here.scheme, here.hostname, here.port or _DEFAULT_PORTS[here.scheme]))
    except ValueError:  # a port that is not a number
        same = False
    if not same or target.username is not None or target.password is not None or not target.path.startswith("/v2/"):
        raise RegistryError(f"the registry at {location} gave a next-page link to {link!r:.120}, which is not on "
                            "the same registry: not followed")
    return f"{target.path}?{target.query}" if target.query else target.path


def repositories(location: str) -> list[str]:
    return sorted(_paged(location, "/v2/_catalog?n=1000", "repositories"))


def tags(location: str, name: str) -> list[str]:
    return sorted(_paged(location, f"/v2/{_name(name)}/tags/list", "tags"))
