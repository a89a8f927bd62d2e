"""The fence restart history cannot be changed or deleted, through the model
or the admin, not even by a superuser."""
import pytest
from django.urls import reverse
from django.utils import timezone

from nodes.models import Cluster, FenceRestart, Node
from nodes.models.fence_restart import AppendOnlyError

pytestmark = pytest.mark.django_db


@pytest.fixture
def restart():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    return FenceRestart.objects.create(
        node=node, cluster=cluster, node_address=node.address, started_at=timezone.now(),
        requested_by_username="alice", image_before="a:1", image_after="a:2", outcome="succeeded", reason="CVE fix")


def test_model_refuses_update_and_delete(restart):
    restart.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        restart.save()
    with pytest.raises(AppendOnlyError):
        restart.delete()
    with pytest.raises(AppendOnlyError):
        FenceRestart.objects.filter(pk=restart.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        FenceRestart.objects.all().delete()
    assert FenceRestart.objects.get(pk=restart.pk).reason == "CVE fix"


def test_deleting_the_node_or_cluster_is_refused_while_history_exists(restart):
    from django.db.models import ProtectedError
    with pytest.raises(ProtectedError):
        restart.node.delete()
    assert FenceRestart.objects.filter(pk=restart.pk).exists()


def test_admin_is_read_only_for_a_superuser(admin_client, restart):
    changelist = admin_client.get(reverse("admin:nodes_fencerestart_changelist"))
    assert changelist.status_code == 200 and b"CVE fix" in changelist.content
    change_url = reverse("admin:nodes_fencerestart_change", args=[restart.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(change_url, {"reason": "rewritten"}).status_code == 403
    assert admin_client.post(reverse("admin:nodes_fencerestart_delete", args=[restart.pk]), {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:nodes_fencerestart_add")).status_code == 403
    bulk = admin_client.post(reverse("admin:nodes_fencerestart_changelist"),
                             {"action": "delete_selected", "_selected_action": [restart.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    assert FenceRestart.objects.get(pk=restart.pk).reason == "CVE fix"
