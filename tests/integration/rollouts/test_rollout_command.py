"""`manage.py rollout start` then `rollout wait` against the 4-DEA sandbox,
the jobs run by a real `rqworker` in its own process, as from a pipeline;
the cluster's webhook (a real HTTP receiver on 127.0.0.1) is told the
rollout started and succeeded, signed with the secret the worker has."""
import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from images.models.rollout import Rollout, RolloutStatus
from notifications.delivery import signature
from notifications.models import Delivery, Webhook
from sandbox import layout
from stackato_dash import queueing
from support.image_versions import product_version
from support.rollout_driving import config_image, deas, fence
from support.http_receiver import Receiver
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

SECRET = "sandbox-webhook-secret"  # noqa: S105  a test value, not a secret

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_then_wait_from_the_command_line(rollout_sandbox, rollout_fleet):
    User.objects.create_superuser("release", password=None)
    version = product_version(rollout_sandbox, rollout_fleet, "4.3.0")
    receiver = Receiver()
    Webhook.objects.create(cluster=rollout_fleet, url=receiver.url, secret_env="SANDBOX_HOOK_SECRET")
    # The rollout's worker, and the notifications' own (the one that signs).
    worker, notifier = start_worker(), start_worker(queueing.NOTIFICATIONS, SANDBOX_HOOK_SECRET=SECRET)
    try:
        wait_until_registered(worker, notifier)
        out = io.StringIO()
        call_command("rollout", "start", str(version.pk), "--user", "release", "--reason", "from CI",
                     "--max-in-flight", "2", "--health-wait", "1", "--json", stdout=out)
        rollout_id = json.loads(out.getvalue())["id"]
        waited = io.StringIO()
        call_command("rollout", "wait", rollout_id, "--interval", "0.5", "--timeout", "600", stdout=waited)
        wait_until(lambda: list(Delivery.objects.values_list("status", flat=True)) == ["delivered"] * 2,
                   "both deliveries delivered")
    finally:
        kill_worker(worker)
        kill_worker(notifier)
        receiver.close()
    lines = waited.getvalue().splitlines()
    rollout = Rollout.objects.get(pk=rollout_id)
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    assert rollout.requested_by_username == "release"
    assert lines[-3] == f"rollout {rollout_id} on {rollout.cluster.name}: succeeded ({rollout.status_reason})"
    progress = lines[:-3]  # not a terminal: one "done/total status: last decision" line per change
    assert progress and all(re.match(r"\d+/\d+ \w+", line) for line in progress), lines
    done, total = progress[-1].split()[0].split("/")
    assert done == total and progress[-1].split()[1].startswith("succeeded")
    assert config_image(rollout_sandbox) == version.registry_reference
    for name in deas(rollout_sandbox):
        assert fence(rollout_sandbox, name) == ("RUNNING", version.registry_reference)
    assert f"restart: {len(layout.deas(rollout_sandbox))} succeeded" in waited.getvalue()
    events = [json.loads(body) for _, body in receiver.requests]
    assert [(e["event"], e["rollout"]["id"]) for e in events] == [
        ("rollout.started", rollout_id), ("rollout.succeeded", rollout_id)]
    for headers, body in receiver.requests:
        assert headers["X-Stackato-Dash-Signature"] == signature(SECRET, body)
