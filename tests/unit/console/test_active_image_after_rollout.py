"""Right after a rollout (or a rollback, or an undo) the nodes' facts still
name the image it replaced until someone refreshes them; the console's own
record of the config (Cluster.desired_image, written by the rollout's config
step) is already the new one. The home page's "Active image", its "Roll
out …" link and the plan page's "current → target" line follow that record.
Found walking the demo: after a successful rollout of 3.0.1 the home page
still said 3.0.0 was active and offered "Roll out 3.0.1…" again, and the
Undo page announced "3.0.0 → 3.0.0"."""
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from images.models import ImageVersion
from images.models.rollout import Rollout, RolloutStatus
from nodes import config_history
from nodes.models import Cluster, Node
from nodes.models.node import Drift

pytestmark = pytest.mark.django_db

TRUSTED = dict(host_key_type="ssh-ed25519", host_key="AAAA", reachable=True)
BASE = "stackato/app-holophonor:3.0.0"
NEW = "10.0.0.11:5000/stackato/app-holophonor:3.0.1"


@pytest.fixture
def rolled_out():
    """A cluster whose nodes were last refreshed on BASE, and a succeeded
    rollout of NEW whose config step recorded NEW (as images/rollouts/steps.py does)."""
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry="10.0.0.11:5000")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], desired_image=BASE, **TRUSTED)
    for address in ["10.0.0.12", "10.0.0.13"]:
        Node.objects.create(cluster=cluster, address=address, roles=["dea"], desired_image=BASE, **TRUSTED)
    config_history.record(cluster, BASE, timezone.now(), seen_by_refresh=True)  # the first refresh
    version = ImageVersion.objects.create(cluster=cluster, repository="stackato/app-holophonor", tag="3.0.1",
                                          from_reference=BASE)
    ImageVersion.objects.filter(pk=version.pk).update(status="pushed", image_id="sha256:" + "1" * 64,
                                                      registry_reference=NEW, manifest_digest="sha256:" + "2" * 64)
    rollout = Rollout.objects.create(cluster=cluster, target=version, target_image=NEW, target_pull=NEW,
                                     previous_image=BASE, requested_by_username="admin", reason="walk",
                                     status=RolloutStatus.SUCCEEDED)
    config_history.record(cluster, NEW, timezone.now())  # the rollout's config step
    return cluster, version, rollout


def cluster_row(page: str, cluster) -> str:
    return re.search(rf"<tr><td>{cluster.name}</td>.*?</tr>", page, re.S).group(0)


def test_the_home_page_shows_the_rolled_out_image_as_active_before_any_refresh(admin_client, rolled_out):
    cluster, version, _ = rolled_out
    row = cluster_row(admin_client.get(reverse("admin:index")).content.decode(), cluster)
    assert f"<code>{NEW}</code>" in row and BASE not in row
    # The version that is active is not offered as the next rollout.
    assert "Roll out" not in row


def test_an_older_version_is_not_offered_in_its_place(admin_client, rolled_out):
    """With the newest version active, the home page offers no downgrade."""
    cluster, version, _ = rolled_out
    older = ImageVersion.objects.create(cluster=cluster, repository="stackato/app-holophonor", tag="3.0.0.1",
                                        from_reference=BASE)
    ImageVersion.objects.filter(pk=older.pk).update(status="pushed", image_id="sha256:" + "5" * 64,
                                                    registry_reference=NEW.replace("3.0.1", "3.0.0.1"),
                                                    manifest_digest="sha256:" + "6" * 64,
                                                    created_at=version.created_at - timezone.timedelta(hours=1))
    assert "Roll out" not in cluster_row(admin_client.get(reverse("admin:index")).content.decode(), cluster)


def test_a_node_left_behind_gets_the_active_version_offered_again(admin_client, rolled_out):
    """A DEA left out of the rollout (unreachable then) is 'config changed, fence
    not restarted' at its next refresh: rolling the active version out again
    is what restarts it onto it."""
    cluster, version, _ = rolled_out
    Node.objects.filter(address="10.0.0.13").update(drift=Drift.NOT_RESTARTED)
    row = cluster_row(admin_client.get(reverse("admin:index")).content.decode(), cluster)
    assert f"Roll out {version} again…" in row


def test_a_newer_pushed_version_is_still_offered(admin_client, rolled_out):
    cluster, _, _ = rolled_out
    newer = ImageVersion.objects.create(cluster=cluster, repository="stackato/app-holophonor", tag="3.0.2",
                                        from_reference=NEW)
    ImageVersion.objects.filter(pk=newer.pk).update(status="pushed", image_id="sha256:" + "3" * 64,
                                                    registry_reference=NEW.replace("3.0.1", "3.0.2"),
                                                    manifest_digest="sha256:" + "4" * 64)
    row = cluster_row(admin_client.get(reverse("admin:index")).content.decode(), cluster)
    assert "Roll out stackato/app-holophonor:3.0.2…" in row


def test_the_undo_plan_page_names_the_image_the_cluster_runs_now(admin_client, rolled_out):
    _, _, rollout = rolled_out
    page = admin_client.post(reverse("admin:images_rollout_changelist"),
                             {"action": "undo", "_selected_action": [rollout.pk]}).content.decode()
    assert re.search(rf"<code>{re.escape(NEW)}</code>\s*&rarr;\s*<code>{re.escape(BASE)}</code>", page), \
        re.search(r"<h2>.*?</h2>", page, re.S).group(0)


def test_before_the_console_read_the_cluster_the_nodes_last_refresh_is_used(db):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    assert config_history.current(cluster) == ""
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], desired_image=BASE)
    assert config_history.current(cluster) == BASE
