"""What the rollout page says about a rollout that did not switch every node:
the phase table counts a skipped step apart from a done one, the node table
shows what a node is known to run (not the image its skipped restart would
have moved it to), and a finished rollout that left the config on its target
offers Undo…, which opens the undo plan page and starts nothing."""
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStep
from nodes.models import FenceRestart, Node

pytestmark = pytest.mark.django_db

TARGET, PREVIOUS = "reg:5000/app:2", "reg:5000/app:1"


def make_rollout(cluster, restarts, *, status="cancelled", config="succeeded", previous=PREVIOUS,
                 phase=Phase.RESTART, revert=None, network="10.0.0"):
    """restarts: per node, the switch step's status, or (status, audit outcome)
    for a node whose fence restart was attempted (the audit row written ahead)."""
    core = Node.objects.create(cluster=cluster, address=f"{network}.11", roles=["primary"])
    rollout = Rollout.objects.create(cluster=cluster, target_image=TARGET, target_pull=TARGET, previous_image=previous,
                                     requested_by_username="ops", reason="fix", status=status)
    RolloutStep.objects.create(rollout=rollout, node=core, phase=Phase.CONFIG, image=TARGET, status=config)
    for number, state in enumerate(restarts):
        state, outcome = state if isinstance(state, tuple) else (state, None)
        node = Node.objects.create(cluster=cluster, address=f"{network}.{21 + number}", roles=["dea"])
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.PULL, image=TARGET, status="succeeded")
        RolloutStep.objects.create(rollout=rollout, node=node, phase=phase, image=TARGET, status=state)
        if outcome is not None:
            FenceRestart.objects.create(node=node, cluster=cluster, node_address=node.address, image_after=TARGET,
                                        correlation_id=rollout.id, started_at=timezone.now(), reason="fix",
                                        outcome=outcome)
        if revert:
            RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.REVERT, image=previous, status=revert)
    return rollout


def page_of(client, rollout) -> str:
    return client.get(reverse("admin:images_rollout_change", args=[rollout.pk])).content.decode()


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def phase_row(page: str, label: str) -> str:
    table = page.split('<table class="phases">', 1)[1].split("</table>", 1)[0]
    return next(text(row) for row in table.split("<tr>") if f"<td>{label}</td>" in row)


def node_row(page: str, address: str) -> str:
    """The node table's cells before the log: node, phase, state, image, duration, audit."""
    table = page.split('<table id="rollout-nodes">', 1)[1].split("</table>", 1)[0]
    row = next(row for row in table.split("<tr ")[1:] if f"<code>{address}</code>" in row)
    return text(row.split("<details>", 1)[0].split(">", 1)[1])


def test_the_phase_table_counts_skipped_and_failed_steps_apart_from_done(admin_client, cluster):
    rollout = make_rollout(cluster, ["succeeded", ("failed", "failed"), "skipped", "skipped"])
    page = page_of(admin_client, rollout)
    assert phase_row(page, "restart + verify") == "restart + verify 1 / 4 done, 1 failed, 2 skipped"
    assert phase_row(page, "pull") == "pull 4 / 4 done"
    running = make_rollout(cluster_two(cluster), ["succeeded", "running", "queued", "pending"], status="activating",
                           network="10.0.1")
    assert phase_row(page_of(admin_client, running), "restart + verify") == \
        "restart + verify 1 / 4 done, 2 in flight"


def cluster_two(cluster):
    return type(cluster).objects.create(name="staging", core_address="10.0.1.11")


def test_a_node_whose_restart_was_skipped_shows_the_image_it_kept(admin_client, cluster):
    rollout = make_rollout(cluster, ["succeeded", ("failed", "failed"), "skipped", ("errored", "not_restarted")])
    page = page_of(admin_client, rollout)
    assert node_row(page, "10.0.0.21").startswith(f"10.0.0.21 restart + verify succeeded {TARGET} ")
    # Fence was restarted there and did not come up on the target: what runs is not known.
    assert node_row(page, "10.0.0.22").startswith("10.0.0.22 restart + verify failed unknown (restart + verify failed)")
    assert node_row(page, "10.0.0.23").startswith(
        f"10.0.0.23 restart + verify skipped {PREVIOUS} (restart + verify skipped)")
    # The audit found no new fence process: the node kept the image before.
    assert node_row(page, "10.0.0.24").startswith(
        f"10.0.0.24 restart + verify errored {PREVIOUS} (restart + verify errored)")


def test_after_a_rollback_the_nodes_show_the_image_before_and_unread_is_not_changed(admin_client, cluster):
    back = make_rollout(cluster, ["succeeded"], status="rolled_back", revert="succeeded")
    assert node_row(page_of(admin_client, back), "10.0.0.21").startswith(
        f"10.0.0.21 restart on previous image succeeded {PREVIOUS} ")
    blind = make_rollout(cluster_two(cluster), ["skipped"], config="pending", previous="", network="10.0.1")
    assert node_row(page_of(admin_client, blind), "10.0.1.21").startswith(
        "10.0.1.21 restart + verify skipped not changed (restart + verify skipped)")


def test_after_a_rollback_the_switched_count_says_how_many_were_switched_back(admin_client, cluster):
    back = make_rollout(cluster, ["succeeded", "succeeded", "skipped"], status="rolled_back", revert="succeeded")
    said = text(page_of(admin_client, back)).split("Nodes switched:", 1)[1].split(" of the ", 1)[0]
    assert said.split()[:4] == ["2", "/", "3", "(67%)"]
    assert f"3 switched back to {PREVIOUS} by the rollback" in said

    going = make_rollout(cluster_two(cluster), ["succeeded"], status="succeeded", network="10.0.1")
    assert "switched back" not in page_of(admin_client, going)


def test_on_a_reloading_cluster_a_skipped_verify_after_the_config_change_is_unknown(admin_client, cluster):
    """3.0.1+: every DEA reloads on the config change; only the verify tells."""
    rollout = make_rollout(cluster, ["succeeded", "skipped"], phase=Phase.OBSERVE)
    page = page_of(admin_client, rollout)
    assert node_row(page, "10.0.0.21").startswith(f"10.0.0.21 verify reload succeeded {TARGET} ")
    assert node_row(page, "10.0.0.22").startswith("10.0.0.22 verify reload skipped unknown (verify reload skipped)")


UNDO = f'value="Undo… (back to {PREVIOUS})"'


def test_a_finished_rollout_offers_undo_which_opens_the_plan_page(admin_client, cluster):
    rollout = make_rollout(cluster, ["succeeded", "succeeded"], status="succeeded")
    page = page_of(admin_client, rollout)
    assert UNDO in page
    form = page.split(UNDO, 1)[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form and 'name="action" value="undo"' in form
    assert f'name="_selected_action" value="{rollout.pk}"' in form
    plan = admin_client.post(reverse("admin:images_rollout_changelist"),
                             {"action": "undo", "_selected_action": [rollout.pk]}).content.decode()
    assert f"Undo {rollout}" in plan and "Nothing has changed yet." in plan and f"&rarr; {PREVIOUS}" in text(plan)
    assert Rollout.objects.count() == 1
    # A GET never acts, even with the action's fields.
    response = admin_client.get(reverse("admin:images_rollout_changelist"),
                                {"action": "undo", "_selected_action": [rollout.pk], "post": "yes"})
    assert response.status_code == 302 and Rollout.objects.count() == 1


@pytest.mark.parametrize("status, config, revert", [
    ("activating", "succeeded", None),  # not finished: Cancel… instead
    ("rolled_back", "succeeded", "succeeded"),  # already back on the image before
    ("cancelled", "pending", None),  # stopped before the config changed: nothing to undo
])
def test_undo_is_not_offered_where_there_is_nothing_to_undo(admin_client, cluster, status, config, revert):
    rollout = make_rollout(cluster, ["succeeded"], status=status, config=config, revert=revert)
    if revert:
        RolloutStep.objects.create(rollout=rollout, node=Node.objects.get(address="10.0.0.11"),
                                   phase=Phase.REVERT_CONFIG, image=PREVIOUS, status="succeeded")
    assert "Undo…" not in page_of(admin_client, rollout)


def test_undo_is_not_offered_once_an_undo_of_it_succeeded(admin_client, cluster):
    rollout = make_rollout(cluster, ["succeeded"], status="succeeded")
    undo = Rollout.objects.create(cluster=cluster, target_image=PREVIOUS, target_pull=PREVIOUS, previous_image=TARGET,
                                  kind="rollback", undoes=rollout, requested_by_username="ops", reason="bad",
                                  status="failed")
    assert UNDO in page_of(admin_client, rollout)  # the undo failed: still something to undo
    Rollout.objects.filter(pk=undo.pk).update(status="succeeded")
    assert "Undo…" not in page_of(admin_client, rollout)


def test_a_viewer_is_not_offered_undo(client, django_user_model, cluster):
    rollout = make_rollout(cluster, ["succeeded"], status="succeeded")
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_rollout"))
    client.force_login(viewer)
    page = page_of(client, rollout)
    assert "1 / 1 done" in page and "Undo…" not in page
