"""The fleet at a moment and the audit's hash chain after real rollouts on the
4-DEA sandbox (real sshd, kato, fence, dockerd, registry, Redis): a rollout,
one whose canary fails and is rolled back automatically, and an undo. At
moments between them the fleet-at-T page must say what the nodes themselves
reported then, and the chain written by the workers' jobs must verify."""
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import Rollout, RolloutStatus
from nodes.models import FenceRestart
from sandbox import knobs, layout
from support.image_versions import BASE, product_version
from support.rollout_driving import STRATEGY, fence, roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def reported(sandbox) -> dict:
    """Each DEA's fence as the node reports it now: address -> (state, image)."""
    return {dea["address"]: fence(sandbox, dea["name"]) for dea in layout.deas(sandbox)}


def page_answer(admin_client, cluster, moment) -> dict:
    """The fleet-at-T table as the page shows it: address -> (kind, image)."""
    url = reverse("admin:nodes_fencerestart_fleet_at", args=[cluster.pk])
    page = admin_client.get(url, {"at": moment.isoformat()})
    assert page.status_code == 200
    return {node.address: (state.kind, state.image) for node, state in page.context["states"]}


def finished(rollout) -> Rollout:
    run_queued_jobs()
    rollout.refresh_from_db()
    return rollout


def story(rollout) -> str:
    """What the rollout decided and what each step printed, for a failure's message."""
    steps = [f"{s.node.address} {s.phase} {s.status}: {s.output[-400:]}"
             for s in rollout.steps.select_related("node").order_by("started_at", "id")]
    return "\n".join([rollout.decisions, *steps])


def test_the_fleet_at_moments_between_rollouts_is_what_the_nodes_reported(admin_client, rollout_sandbox,
                                                                          rollout_fleet, worker_alive, capsys):
    seen = {timezone.now(): reported(rollout_sandbox)}  # before any restart: all on the base image
    first = product_version(rollout_sandbox, rollout_fleet, "1.1.0")  # the tags test_rollouts.py builds: built once per session
    rollout = finished(roll_out(admin_client, first))
    assert rollout.status == RolloutStatus.SUCCEEDED, story(rollout)
    seen[timezone.now()] = reported(rollout_sandbox)

    second = product_version(rollout_sandbox, rollout_fleet, "1.2.0")
    canary = layout.deas(rollout_sandbox)[0]
    knobs.apply(Path(rollout_sandbox["state_dir"]), canary["name"], "fail-restarts", "1")
    failing = finished(roll_out(admin_client, second))
    assert failing.status == RolloutStatus.ROLLED_BACK, story(failing)
    seen[timezone.now()] = reported(rollout_sandbox)

    response = admin_client.post(reverse("admin:images_rollout_changelist"),
                                 {"action": "undo", "_selected_action": [rollout.pk], "post": "yes", **STRATEGY})
    assert response.status_code == 302, response.content.decode()[-3000:]
    undo = finished(Rollout.objects.get(undoes=rollout))
    assert undo.status == RolloutStatus.SUCCEEDED, story(undo)
    seen[timezone.now()] = reported(rollout_sandbox)

    images = [{image for _, image in nodes.values()} for nodes in seen.values()]
    assert images == [{BASE}, {first.registry_reference}, {first.registry_reference}, {BASE}]
    for moment, nodes in seen.items():
        answer = page_answer(admin_client, rollout_fleet, moment)
        for address, (state, image) in nodes.items():
            assert state == "RUNNING"
            # Before the first restart the audit has no row to say since when: "not recorded", with the image
            # its first row found; afterwards the image a succeeded restart left.
            expected = ("not recorded" if moment == min(seen) else "image", image)
            assert answer[address] == expected, (moment, address)

    # Between the canary's failed restart and its rollback the audit cannot say what fence ran: unknown.
    failed, rolled_back = FenceRestart.objects.filter(correlation_id=failing.pk).order_by("started_at")
    assert (failed.outcome, rolled_back.outcome) == ("failed", "succeeded")
    gap = failed.finished_at + (rolled_back.started_at - failed.finished_at) / 2
    assert page_answer(admin_client, rollout_fleet, gap)[canary["address"]] == ("unknown", "")

    page = admin_client.get(reverse("admin:nodes_fencerestart_fleet_at", args=[rollout_fleet.pk])).content.decode()
    assert page.count('class="fleet-lane"') == 4 and 'class="segment segment-unknown"' in page

    # Every row the workers' jobs wrote is final and chained, and the chain holds.
    assert not FenceRestart.objects.filter(chain_seq__isnull=True).exists()
    call_command("verify_audit")
    rows = FenceRestart.objects.count()
    assert f"chain holds: {rows} rows, last chain #{rows}" in capsys.readouterr().out
    assert "Audit hash chain holds" in admin_client.get(reverse("admin:nodes_fencerestart_changelist")).content.decode()
