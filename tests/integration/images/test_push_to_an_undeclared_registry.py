"""The sandbox's registry speaks plain HTTP. Not declared insecure, the
console speaks to it over HTTPS only: the push fails with the TLS error and
the setting to declare, and nothing reaches the registry (no tag, no
fallback to plain HTTP). Declared, as the suite and `make demo` do, the same
version is pushed and its digest verified. Real sandbox: Core engine,
docker-registry, an in-process RQ worker."""
import urllib.error
import urllib.request

import pytest

from images.models import Status

pytestmark = pytest.mark.django_db(transaction=True)
V2_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def tag_in_registry(location, repository, tag) -> bool:
    request = urllib.request.Request(f"http://{location}/v2/{repository}/manifests/{tag}", method="HEAD",  # noqa: S310 - the sandbox's plain-HTTP registry
                                     headers={"Accept": V2_MANIFEST})
    try:
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - as above
            return True
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def test_a_plain_http_registry_not_declared_insecure_fails_the_push_and_gets_nothing(
        fleet, make_version, act, worker_alive, settings):
    version = make_version(repository="exampleco/undeclared", tag="1.0.0", steps=["echo x > /x"])
    act("build", version)
    assert version.status == Status.BUILT, version.status_reason

    settings.INSECURE_REGISTRIES = []  # the operator has not said it speaks plain HTTP
    act("push", version)
    assert version.status == Status.FAILED
    assert f"push to {fleet.registry} failed: TLS handshake with {fleet.registry} failed: " in version.status_reason
    assert f"declare it insecure (INSECURE_REGISTRIES={fleet.registry}" in version.status_reason
    assert (version.registry_reference, version.manifest_digest) == ("", "")
    assert not tag_in_registry(fleet.registry, "exampleco/undeclared", "1.0.0")

    settings.INSECURE_REGISTRIES = [fleet.registry]  # declared, as an operator would
    act("push", version)
    assert version.status == Status.PUSHED, version.status_reason
    assert tag_in_registry(fleet.registry, "exampleco/undeclared", "1.0.0")
