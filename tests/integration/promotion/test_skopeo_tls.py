"""skopeo copies by digest from a plain-HTTP registry (the seed's insecure
one) to an HTTPS one whose certificate it verifies: trusted through
SSL_CERT_FILE it copies, untrusted it refuses and writes nothing. Two real
registries (Debian's docker-registry) on 127.0.0.1, a certificate made here,
an image written as an OCI layout and pushed with skopeo itself."""
import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from images import registry
from images.promotion import skopeo
from support import self_signed

REGISTRY = "/usr/bin/docker-registry"
REPOSITORY = "exampleco/promoted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(location: str) -> bool:
    host, port = location.split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _start_registry(directory: Path, tls: tuple | None) -> tuple[subprocess.Popen, str]:
    location = f"127.0.0.1:{_free_port()}"
    directory.mkdir()
    served = f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n" if tls else ""
    config = directory / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: "
                      f"{directory / 'storage'}\nhttp:\n  addr: {location}\n{served}")
    with (directory / "log").open("w") as log:
        process = subprocess.Popen([REGISTRY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - fixed argv
    deadline = time.monotonic() + 20
    while not _answers(location):  # waits on the port being served, not a fixed time
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the registry on {location} did not start: {(directory / 'log').read_text()}")
        time.sleep(0.1)
    return process, location


def _blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _oci_image(layout: Path, tag: str) -> None:
    """A one-layer image as an OCI layout directory (no Docker engine needed)."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("promoted.txt")
        info.size = 9
        archive.addfile(info, io.BytesIO(b"promoted\n"))
    layer = _blob(layout, gzip.compress(tar.getvalue(), mtime=0))
    config = _blob(layout, json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar.getvalue()).hexdigest()]}}).encode())
    manifest = _blob(layout, json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}]}).encode())
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}))


@pytest.fixture
def registries(tmp_path, settings):
    tls = self_signed.certificate(tmp_path, "production registry")
    plain, source = _start_registry(tmp_path / "source", None)
    secure, target = _start_registry(tmp_path / "target", tls)
    settings.INSECURE_REGISTRIES = [source]  # the plain-HTTP one is declared insecure; the target is not
    try:
        _oci_image(tmp_path / "image", "1.0.0")
        subprocess.run(["skopeo", "--policy", str(skopeo.POLICY), "copy", "--preserve-digests",  # noqa: S603, S607 - fixed argv
                        "--dest-tls-verify=false", f"oci:{tmp_path / 'image'}:1.0.0",
                        f"docker://{source}/{REPOSITORY}:1.0.0"], check=True, capture_output=True, timeout=60)
        yield source, target, tls[0]
    finally:
        for process in (plain, secure):
            process.kill()
            process.wait()


def test_from_a_plain_http_registry_to_a_verified_https_one_the_digest_is_kept(registries, monkeypatch):
    source, target, ca = registries
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the console (and so skopeo) trusts the target's certificate
    digest = registry.manifest_digest(source, REPOSITORY, "1.0.0")
    assert (registry.scheme(source), registry.scheme(target)) == ("http", "https")
    assert {"--src-tls-verify=false", "--dest-tls-verify=true"} <= set(
        skopeo.command(source, target, REPOSITORY, digest, "1.0.0"))
    lines = []
    skopeo.copy(source, target, REPOSITORY, digest, "1.0.0", lines.append)
    assert registry.manifest_digest(target, REPOSITORY, "1.0.0") == digest, lines


def test_an_https_registry_whose_certificate_is_not_trusted_gets_nothing(registries, monkeypatch):
    source, target, _ = registries
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    digest = registry.manifest_digest(source, REPOSITORY, "1.0.0")
    assert registry.scheme(target) == "https"
    with pytest.raises(skopeo.CopyFailed, match="x509: certificate signed by unknown authority"):
        skopeo.copy(source, target, REPOSITORY, digest, "1.0.0", lambda line: None)
    monkeypatch.setenv("SSL_CERT_FILE", str(registries[2]))  # to look, the console trusts it again
    assert registry.manifest_digest(target, REPOSITORY, "1.0.0") is None


def test_the_plain_http_registry_not_declared_insecure_is_refused_not_spoken_to_in_clear(registries, settings):
    source, _, _ = registries
    settings.INSECURE_REGISTRIES = []  # the operator has not said it speaks plain HTTP
    with pytest.raises(registry.TLSHandshakeFailed, match=f"TLS handshake with {source} failed: .*declare it "
                                                          f"insecure \\(INSECURE_REGISTRIES={source}"):
        registry.manifest_digest(source, REPOSITORY, "1.0.0")
