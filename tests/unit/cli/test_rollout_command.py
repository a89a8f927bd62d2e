"""manage.py rollout: the admin's rollout actions from a terminal. Real
Redis (a registered worker, or none); the queued jobs are not run: what a
command starts is read from the rows, as the console's page would."""
import json
import uuid

import pytest
from django.core.management.base import CommandError

from images.models import ImageVersion, Rollout
from images.models.rollout import Phase, RolloutStatus, RolloutStep
from support.rollout_cli import BASE, a_rollout, refused, run, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(fleet):
    return ImageVersion.objects.create(cluster=fleet, repository="exampleco/app", tag="2", from_reference=BASE,
                                       status="built", image_id="sha256:" + "a" * 64, local=True,
                                       engine_reference="exampleco/app:2")


def finished_rollout(cluster, status=RolloutStatus.SUCCEEDED, **fields):
    return a_rollout(cluster, status=status, **fields)


def test_start_creates_the_rollout_as_the_named_user(version, worker):
    user_with("activate_rollout")
    out = run("start", str(version.pk), "--user", "ops", "--reason", "CVE fix", "--max-in-flight", "50%", "--json")
    document = json.loads(out)
    rollout = Rollout.objects.get(pk=document["id"])
    assert (rollout.requested_by_username, rollout.reason, rollout.max_in_flight) == ("ops", "CVE fix", "50%")
    assert document["status"] == "planned" and document["steps"] == {"pull": {"pending": 2}}
    assert rollout.target == version and rollout.auto_rollback


def test_start_refusals_say_why_and_start_nothing(version, worker):
    user_with("distribute_rollout")
    assert "Name the user to act as with --user" in refused("start", str(version.pk), "--reason", "x")
    assert "No active user named 'nobody'" in refused("start", str(version.pk), "--user", "nobody", "--reason", "x")
    assert "ops may not do this: it needs the permission images.activate_rollout" in refused(
        "start", str(version.pk), "--user", "ops", "--reason", "x")
    user_with("activate_rollout", name="lead")
    assert "No image version with id 999" in refused("start", "999", "--user", "lead", "--reason", "x")
    assert "'abc' is not an image version id" in refused("start", "abc", "--user", "lead", "--reason", "x")
    assert "--reason: This field is required." in refused("start", str(version.pk), "--user", "lead")
    assert "--max-in-flight:" in refused("start", str(version.pk), "--user", "lead", "--reason", "x",
                                         "--max-in-flight", "0")
    assert not Rollout.objects.exists()


def test_start_without_a_worker_is_refused(version, clean_queue):  # noqa: F811
    user_with("activate_rollout")
    assert "No RQ worker is running" in refused("start", str(version.pk), "--user", "ops", "--reason", "x")
    assert not Rollout.objects.exists()


def test_distribute_only_needs_the_distribute_permission(version, worker):
    user_with("distribute_rollout")
    rollout_id = run("start", str(version.pk), "--user", "ops", "--reason", "x", "--distribute-only").split()[-1]
    assert Rollout.objects.get(pk=rollout_id).distribute_only


def test_status_in_lines_and_json(fleet):
    rollout = finished_rollout(fleet, status=RolloutStatus.ROLLED_BACK, status_reason="canary failed")
    node = fleet.nodes.get(address="10.0.0.21")
    RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.RESTART, image="x", status="failed")
    text = run("status", str(rollout.pk))
    assert f"rollout {rollout.pk} on prod: rolled_back (canary failed)" in text and "restart: 1 failed" in text
    assert json.loads(run("status", str(rollout.pk), "--json"))["steps"] == {"restart": {"failed": 1}}
    assert "'nope' is not a rollout id" in refused("status", "nope")
    missing = uuid.uuid4()
    assert f"No rollout with id {missing}" in refused("status", str(missing))


def test_cancel_records_the_request_or_says_why_not(fleet):
    user_with("activate_rollout")
    running = finished_rollout(fleet, status=RolloutStatus.ACTIVATING)
    assert "cancel requested (stop and roll back)" in run("cancel", str(running.pk), "--user", "ops", "--roll-back")
    running.refresh_from_db()
    assert running.cancel_requested and running.cancel_rolls_back
    done = finished_rollout(fleet, status=RolloutStatus.SUCCEEDED)
    Rollout.objects.filter(pk=running.pk).update(status=RolloutStatus.CANCELLED)
    assert "it has already ended (succeeded): nothing to cancel" in refused("cancel", str(done.pk), "--user", "ops")
    user_with(name="viewer")
    assert "viewer may not do this" in refused("cancel", str(done.pk), "--user", "viewer")


def test_undo_starts_a_rollback_to_the_image_it_replaced(fleet, worker):
    user_with("activate_rollout")
    earlier = finished_rollout(fleet)
    rollout = Rollout.objects.get(pk=run("undo", str(earlier.pk), "--user", "ops", "--reason", "bad release").split()[-1])
    assert (rollout.kind, rollout.target_image, rollout.undoes) == ("rollback", BASE, earlier)
    assert "already has a rollout in progress" in refused("undo", str(earlier.pk), "--user", "ops", "--reason", "again")


def test_wait_exits_by_how_the_rollout_ended(fleet):
    good = finished_rollout(fleet)
    assert "succeeded" in run("wait", str(good.pk))
    Rollout.objects.filter(pk=good.pk).update(status=RolloutStatus.CANCELLED)  # one unfinished per cluster at most
    bad = finished_rollout(fleet, status=RolloutStatus.FAILED, status_reason="2 nodes failed")
    assert "ended failed: 2 nodes failed" in refused("wait", str(bad.pk))
    running = finished_rollout(fleet, status=RolloutStatus.ACTIVATING)
    with pytest.raises(CommandError) as error:
        run("wait", str(running.pk), "--timeout", "0")
    assert error.value.returncode == 3 and "still activating after 0 s" in str(error.value)
