"""A pipeline on the API, over real HTTP: with a Release manager's token it
starts the rollout of a version the console built and pushed, polls the
rollout until it ends, and reads the audit of its fence restarts. The jobs
run in a real `rqworker` process against the 4-DEA rollout sandbox."""
import importlib
import json
import urllib.error
import urllib.request

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from images.models.rollout import Rollout, RolloutStatus
from sandbox import layout
from support.api_tokens import token_for
from support.image_versions import product_version
from support.rollout_driving import config_image, deas, fence
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

pytestmark = pytest.mark.django_db(transaction=True)
ROLES = importlib.import_module("nodes.migrations.0003_roles")


class Pipeline:
    """What a CI job does with curl: JSON in and out, the token in a header."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  the test's own loopback server
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def test_a_pipeline_rolls_out_a_version_through_the_api(live_server, rollout_sandbox, rollout_fleet):
    ROLES.create_roles(apps, None)
    user = User.objects.create_user("ci", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="Release manager"))
    viewer = User.objects.create_user("auditor", password=None, is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    version = product_version(rollout_sandbox, rollout_fleet, "4.4.0")
    pipeline = Pipeline(live_server.url, token_for(user))
    auditor = Pipeline(live_server.url, token_for(viewer))

    start = {"version": version.pk, "reason": "release 4.4.0 from CI", "max_in_flight": "2", "health_wait": 1}
    status, refused = auditor.call("POST", "/api/rollouts/", start)
    assert status == 403, refused
    worker = start_worker()
    try:
        wait_until_registered(worker)
        status, started = pipeline.call("POST", "/api/rollouts/", start)
        assert status == 201, started
        path = f"/api/rollouts/{started['id']}/"

        def finished():
            code, rollout = pipeline.call("GET", path)
            assert code == 200, rollout
            return rollout if rollout["finished"] else None
        ended = wait_until(finished, "the rollout to end", timeout=600, interval=0.5)
    finally:
        kill_worker(worker)

    assert ended["status"] == RolloutStatus.SUCCEEDED, ended["decisions"]
    assert (ended["requested_by"], ended["reason"], ended["target_image"]) == (
        "ci", "release 4.4.0 from CI", version.registry_reference)
    dea_count = len(layout.deas(rollout_sandbox))
    restarts = [step for step in ended["steps"] if step["phase"] == "restart"]
    assert len(restarts) == dea_count and {step["status"] for step in restarts} == {"succeeded"}
    assert config_image(rollout_sandbox) == version.registry_reference
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    # The auditor reads who restarted what, and why, for this rollout.
    status, audit = auditor.call("GET", f"/api/fence-restarts/?correlation_id={ended['id']}")
    assert status == 200 and audit["count"] == dea_count
    assert {(row["requested_by"], row["outcome"], row["image_after"], row["reason"]) for row in audit["results"]} == {
        ("ci", "succeeded", version.registry_reference, "release 4.4.0 from CI")}
    assert Rollout.objects.get().requested_by == user
