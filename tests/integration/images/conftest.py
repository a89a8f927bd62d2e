"""Fixtures for image tests against the sandbox: its Core node's engine
builds (BUILD_DOCKER_HOST), its registry on the Core address takes pushes."""
from pathlib import Path

import django_rq
import pytest
from django.urls import reverse

from images.models import ImageVersion, RunStep
from sandbox import layout
from sandbox.register import register
from support.rq import register_idle_worker, run_queued_jobs

BASE = "stackato/app-holophonor:3.0.0"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def worker_alive():
    queue = django_rq.get_queue("default")
    queue.empty()
    worker = register_idle_worker()
    yield worker
    worker.register_death()
    queue.empty()


@pytest.fixture
def fleet(sandbox, settings):
    settings.SSH_PRIVATE_KEY_PATH = Path(sandbox["client_key"])
    settings.SSH_CONNECT_TIMEOUT = 3
    settings.BUILD_DOCKER_HOST = layout.node(sandbox, "core")["docker_host"]
    settings.BUILD_TIMEOUT = 120
    settings.REGISTRY_TIMEOUT = 3
    return register(Path(sandbox["state_dir"]), "sandbox")


@pytest.fixture
def make_version(fleet):
    """A draft written directly: for tests whose subject is not the form."""
    def make(repository, tag, steps, cluster=None):
        version = ImageVersion.objects.create(cluster=cluster or fleet, repository=repository, tag=tag,
                                              from_reference=BASE)
        for position, command in enumerate(steps):
            RunStep.objects.create(version=version, position=position, command=command)
        return version
    return make


@pytest.fixture
def act(admin_client):
    """Run an admin action on versions and the jobs it queued; the page's text."""
    def act(action, *versions, run=True):
        response = admin_client.post(reverse("admin:images_imageversion_changelist"),
                                     {"action": action, "_selected_action": [v.pk for v in versions]}, follow=True)
        if run:
            run_queued_jobs()
        for version in versions:
            version.refresh_from_db()
        return response.content.decode()
    return act
