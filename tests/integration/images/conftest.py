"""Fixtures for image tests against the sandbox: its Core node's engine
builds (BUILD_DOCKER_HOST), its registry on the Core address takes pushes."""
import functools

import pytest
from django.urls import reverse

from sandbox import layout
from support.image_versions import draft_version
from support.rq import run_queued_jobs


@pytest.fixture
def fleet(fleet, sandbox, settings):
    """The shared fleet, building on the Core node's engine."""
    settings.BUILD_DOCKER_HOST = layout.node(sandbox, "core")["docker_host"]
    settings.BUILD_TIMEOUT = 120
    settings.REGISTRY_TIMEOUT = 3
    return fleet


@pytest.fixture
def make_version(fleet):
    """A draft of the fleet written directly: for tests whose subject is not the form."""
    return functools.partial(draft_version, fleet)


@pytest.fixture
def act(admin_client):
    """Run an admin action on versions, confirmed, and the jobs it queued; the page's text."""
    def act(action, *versions, run=True):
        response = admin_client.post(reverse("admin:images_imageversion_changelist"),
                                     {"action": action, "_selected_action": [v.pk for v in versions], "post": "yes"},
                                     follow=True)
        if run:
            run_queued_jobs()
        for version in versions:
            version.refresh_from_db()
        return response.content.decode()
    return act
