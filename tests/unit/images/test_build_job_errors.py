"""Build and push outcomes that the sandbox's real engine cannot produce on
demand: an engine that does not exist (a real, missing socket) and one that
dies in the middle of a build (a fake API object)."""
import pytest
import requests

from images import build, engine, push, transitions
from images.models import BuildLogLine, Status

pytestmark = pytest.mark.django_db


def queued(version):
    assert transitions.queue(version.pk, transitions.BUILDABLE if not version.image_id else transitions.PUSHABLE)
    return version.pk


def test_an_unreachable_engine_ends_errored_with_the_reason(make_version, settings, tmp_path):
    settings.BUILD_DOCKER_HOST = f"unix://{tmp_path}/no-engine.sock"
    version = make_version()
    assert build.run(queued(version)) == Status.ERRORED
    version.refresh_from_db()
    assert "does not answer" in version.status_reason and "no-engine.sock" in version.status_reason
    assert version.dockerfile.startswith("FROM stackato/app-holophonor:3.0.0\nRUN echo hi\n")
    assert BuildLogLine.objects.filter(version=version, text__contains="does not answer").exists()


def test_a_bad_engine_setting_is_errored_not_a_crash(make_version, settings):
    settings.BUILD_DOCKER_HOST = "http://example.com"
    version = make_version()
    assert build.run(queued(version)) == Status.ERRORED
    assert "is not unix://" in type(version).objects.get(pk=version.pk).status_reason


class DyingEngine:
    def inspect_image(self, ref):
        import docker
        raise docker.errors.ImageNotFound("no such image")

    def build(self, **kwargs):
        assert kwargs["network_mode"] == "none" and kwargs["rm"] and kwargs["forcerm"]
        yield {"stream": "Step 1/3 : FROM stackato/app-holophonor:3.0.0"}
        yield {"stream": "\n"}
        raise requests.exceptions.ConnectionError("Connection aborted.")

    def close(self):
        pass


def test_an_engine_lost_mid_build_ends_errored_and_keeps_the_lines(make_version, monkeypatch):
    monkeypatch.setattr(engine, "_client", lambda spec, make: DyingEngine())
    monkeypatch.setattr(engine.settings, "BUILD_DOCKER_HOST", "unix:///fake.sock")
    version = make_version()
    assert build.run(queued(version)) == Status.ERRORED
    version.refresh_from_db()
    assert "failed during the build" in version.status_reason and "Connection aborted" in version.status_reason
    assert BuildLogLine.objects.filter(version=version, text="Step 1/3 : FROM stackato/app-holophonor:3.0.0").exists()


class FailingRunEngine:
    """A RUN step with a shell syntax error, streamed as the engine does:
    its stderr wrapped in colour escapes (seen in the demo's build)."""

    def inspect_image(self, ref):
        import docker
        raise docker.errors.ImageNotFound("no such image")

    def build(self, **kwargs):
        yield {"stream": "Step 2/3 : RUN if [ -f /etc/passwd ; then echo yes"}
        yield {"stream": "\n"}
        yield {"stream": " ---> Running in de86849ca26a\n"}
        yield {"stream": "\x1b[91m/bin/sh: syntax error: unexpected end of file (expecting \"fi\")\n\x1b[0m"}
        yield {"error": "The command '/bin/sh -c if [ -f /etc/passwd ; then echo yes' returned a non-zero code: 2"}

    def close(self):
        pass


def test_a_failed_step_is_quoted_in_the_reason_without_terminal_escapes(make_version, monkeypatch):
    monkeypatch.setattr(engine, "_client", lambda spec, make: FailingRunEngine())
    monkeypatch.setattr(engine.settings, "BUILD_DOCKER_HOST", "unix:///fake.sock")
    version = make_version()
    assert build.run(queued(version)) == Status.FAILED
    version.refresh_from_db()
    assert "\x1b" not in version.status_reason
    assert version.status_reason.endswith(
        'Output of the step:\n/bin/sh: syntax error: unexpected end of file (expecting "fi")')


def test_a_push_without_registry_leaves_the_version_local(make_version):
    version = make_version(status=Status.BUILT, image_id="sha256:" + "b" * 64)
    assert push.run(queued(version)) == Status.BUILT
    version.refresh_from_db()
    assert version.local and version.registry_reference == "" and version.manifest_digest == ""


def test_a_job_for_a_row_that_is_not_queued_does_nothing(make_version):
    version = make_version()
    assert build.run(version.pk) == "not queued for a build: nothing done"
    assert push.run(version.pk) == "not queued for a push: nothing done"
    assert type(version).objects.get(pk=version.pk).status == Status.DRAFT
