"""Issue 10's fault matrix, cancel rows (docs/operations.md): cancel at the
smoke test, and "stop and roll back" during the restarts. The checks are
test_fault_matrix.py's (support/fleet_picture.py); cancel while the config
is set is there, cancel in distribution and after a canary failure in
test_rollouts.py and test_cancel_after_canary_failure.py."""
import pytest

from django.urls import reverse

from images.models.rollout import Phase, Rollout, RolloutStatus, StepStatus
from sandbox import layout
from support.fleet_picture import ended, nothing_lost
from support.image_versions import BASE
from support.job_stepping import run_jobs_until
from support.rollout_driving import STRATEGY, cancel, config_image, roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)



def test_cancel_at_the_smoke_test(admin_client, rollout_sandbox, version, starts):
    """The canary's smoke test starts once its pull is done, while the other
    nodes still pull: a cancel there is a cancel during the distribution.
    The smoke test queued finishes; the pulls not started are skipped."""
    rollout = roll_out(admin_client, version)
    run_jobs_until(lambda: rollout.steps.filter(phase=Phase.SMOKE, status=StepStatus.QUEUED).exists(),
                   "the smoke test queued")
    assert rollout.steps.filter(phase=Phase.PULL).exclude(status=StepStatus.SUCCEEDED).exists()
    cancel(admin_client, rollout, "stop")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.CANCELLED, "cancelled during distribution",
          "the cluster config was not changed")
    assert rollout.steps.get(phase=Phase.SMOKE).status == StepStatus.SUCCEEDED
    assert rollout.steps.filter(phase=Phase.PULL, status=StepStatus.SKIPPED).exists()
    assert not rollout.steps.filter(phase__in=[Phase.CONFIG, Phase.RESTART]).exists()
    assert config_image(rollout_sandbox) == BASE
    nothing_lost(rollout_sandbox, starts, {})


def test_cancel_during_restarts_and_roll_back(admin_client, rollout_sandbox, version, starts):
    canary = layout.deas(rollout_sandbox)[0]
    rollout = roll_out(admin_client, version)
    restarts = rollout.steps.filter(phase=Phase.RESTART)
    run_jobs_until(lambda: restarts.filter(node__address=canary["address"], status=StepStatus.SUCCEEDED).exists(),
                   "the canary switched")
    cancel(admin_client, rollout, "rollback")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.ROLLED_BACK, f"back on {BASE}")
    assert config_image(rollout_sandbox) == BASE
    started = nothing_lost(rollout_sandbox, starts)
    assert started[canary["address"]] == 2


def test_undo_stopped_once_it_set_the_config_back(admin_client, rollout_sandbox, version, starts):
    """Drift after Undo: the rollout was stopped after its canary, then its
    Undo was stopped once it had set the config back to the base image. The
    canary still runs the target ("not restarted"); the DEAs neither rollout
    restarted run the image the config names again, and the console says
    they are in sync (nothing_lost compares every DEA with the node)."""
    canary = layout.deas(rollout_sandbox)[0]
    rollout = roll_out(admin_client, version, max_in_flight="1")
    restarts = rollout.steps.filter(phase=Phase.RESTART)
    run_jobs_until(lambda: restarts.filter(node__address=canary["address"], status=StepStatus.SUCCEEDED).exists(),
                   "the canary switched")
    cancel(admin_client, rollout, "stop")
    run_queued_jobs()
    ended(admin_client, rollout, RolloutStatus.CANCELLED, f"the cluster config names {version.registry_reference}")
    response = admin_client.post(reverse("admin:images_rollout_changelist"),
                                 {"action": "undo", "_selected_action": [rollout.pk], "post": "yes", **STRATEGY})
    assert response.status_code == 302, response.content[-3000:]
    undo = Rollout.objects.get(undoes=rollout)
    config = undo.steps.filter(phase=Phase.CONFIG)
    run_jobs_until(lambda: config.filter(status=StepStatus.QUEUED).exists(), "the undo's config step queued")
    cancel(admin_client, undo, "stop")  # the config step is already queued: it runs
    run_queued_jobs()
    ended(admin_client, undo, RolloutStatus.CANCELLED, f"the cluster config names {BASE}")
    assert config_image(rollout_sandbox) == BASE
    started = nothing_lost(rollout_sandbox, starts)
    assert started[canary["address"]] == 1, started
    assert [address for address, count in started.items() if count == 0], f"every DEA was restarted: {started}"
