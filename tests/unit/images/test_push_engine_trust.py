"""The push asks the build engine (docker SDK info()) whether it may use the
cluster's plain-HTTP registry before anything moves, and fails with the
setting it needs. The engine is a stand-in: the sandbox's engines all accept
their loopback registry."""
import pytest

from images import engine, push, transitions
from images.models import Status

pytestmark = pytest.mark.django_db


class EngineWithSettings:
    def __init__(self, registry_config):
        self.registry_config = registry_config

    def info(self):
        return {"RegistryConfig": self.registry_config}

    def __getattr__(self, name):  # any other call would mean the push went on
        raise AssertionError(f"the push went on to {name}()")

    def close(self):
        pass


@pytest.fixture
def built(make_version, cluster):
    cluster.registry = "10.0.0.11:5000"
    cluster.save(update_fields=["registry"])
    version = make_version(status=Status.BUILT, image_id="sha256:" + "1" * 64,
                           engine_reference="10.0.0.11:5000/exampleco/newimg:1.0.0")
    assert transitions.queue(version.pk, transitions.PUSHABLE)
    return version


def test_a_build_engine_that_treats_the_registry_as_https_fails_the_push_with_the_setting(built, monkeypatch):
    config = {"IndexConfigs": {"docker.io": {"Secure": True}}, "InsecureRegistryCIDRs": ["127.0.0.0/8"]}
    monkeypatch.setattr(engine, "_client", lambda spec, make: EngineWithSettings(config))
    monkeypatch.setattr(engine.settings, "BUILD_DOCKER_HOST", "unix:///fake.sock")
    assert push.run(built.pk) == Status.FAILED
    built.refresh_from_db()
    assert built.status_reason == (
        "push to 10.0.0.11:5000 failed: the build engine unix:///fake.sock cannot use it: its engine treats the "
        "plain-HTTP registry 10.0.0.11:5000 as secure (HTTPS only): it is neither in its insecure-registries nor "
        'inside its insecure ranges; it needs "insecure-registries": ["10.0.0.11:5000"] in /etc/docker/daemon.json, '
        "then a restart of its Docker daemon. Nothing was recorded as pushed.")
    assert (built.registry_reference, built.manifest_digest) == ("", "")
