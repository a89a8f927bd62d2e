"""The admin home's cluster row leads to what an operator does next, as far
as the user may; "New version from active image" needs no choice with one
cluster. Through the real admin views."""
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from images.models import ImageVersion
from nodes.models import Cluster, FenceRestart, Node
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry="10.0.0.11:5000")
    for address, roles in [("10.0.0.11", ["primary"]), ("10.0.0.12", ["dea"]), ("10.0.0.13", ["dea"])]:
        Node.objects.create(cluster=cluster, address=address, roles=roles, host_key_type="ssh-ed25519",
                            host_key="AAAA")
    return cluster


def next_links(page: str, cluster) -> dict:
    """Link text -> href in the cluster's row of the home page."""
    row = re.search(rf"<tr><td>{cluster.name}</td>.*?</tr>", page, re.S).group(0)
    cell = re.search(r'<td class="cluster-next">(.*?)</td>', row, re.S).group(1)
    return {text.strip(): href.replace("&amp;", "&") for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', cell)}


def test_the_cluster_row_links_to_the_next_steps(admin_client, cluster):
    draft_version(cluster, "1.0.1", (), status="pushed", image_id="sha256:1", registry_reference="10.0.0.11:5000/exampleco/newimg:1.0.1",
                 manifest_digest="sha256:2")
    draft_version(cluster, "1.0.2", (), status="draft")  # newer, but nothing to roll out yet
    links = next_links(admin_client.get(reverse("admin:index")).content.decode(), cluster)
    assert links == {
        "New version from active image": f"{reverse('admin:images_imageversion_from_active')}?cluster={cluster.pk}",
        "Roll out exampleco/newimg:1.0.1…": reverse("admin:images_imageversion_roll_out",
                                                    args=[ImageVersion.objects.get(tag="1.0.1").pk]),
        "Refresh facts…": reverse("admin:nodes_cluster_refresh_facts", args=[cluster.pk]),
        "Fence restart audit": f"{reverse('admin:nodes_fencerestart_changelist')}?cluster__id__exact={cluster.pk}",
    }


def test_a_registry_less_cluster_rolls_out_its_latest_built_version(admin_client, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(registry="")
    draft_version(cluster, "1.0.1", (), status="built", image_id="sha256:1", local=True, engine_reference="exampleco/newimg:1.0.1")
    links = next_links(admin_client.get(reverse("admin:index")).content.decode(), cluster)
    assert "Roll out exampleco/newimg:1.0.1…" in links


def test_without_a_version_ready_there_is_no_roll_out_link(admin_client, cluster):
    draft_version(cluster, "1.0.1", (), status="built", image_id="sha256:1")  # the cluster has a registry: push first
    links = next_links(admin_client.get(reverse("admin:index")).content.decode(), cluster)
    assert not [text for text in links if text.startswith("Roll out")]


def test_a_viewer_is_offered_only_the_audit(client, django_user_model, cluster):
    draft_version(cluster, "1.0.1", (), status="pushed", image_id="sha256:1", registry_reference="r/x:1", manifest_digest="sha256:2")
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(viewer)
    assert list(next_links(client.get(reverse("admin:index")).content.decode(), cluster)) == ["Fence restart audit"]
    assert client.get(reverse("admin:nodes_cluster_refresh_facts", args=[cluster.pk])).status_code == 403


def test_refresh_facts_link_shows_the_plan_then_returns_to_the_clusters_nodes(admin_client, cluster):
    url = reverse("admin:nodes_cluster_refresh_facts", args=[cluster.pk])
    page = admin_client.get(url).content.decode()
    addresses = sorted(cluster.nodes.values_list("address", flat=True))
    assert addresses == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
    assert all(f"{address} (prod)" in page for address in addresses)
    assert 'id="worker-check"' in page  # no worker in unit tests: the page says so and offers no "Yes"
    # The confirming POST comes back to the link; with no worker it says so and queues nothing.
    response = admin_client.post(url, {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('admin:nodes_node_changelist')}?cluster__id__exact={cluster.pk}"
    assert "nothing was queued" in response.content.decode()


def test_the_audit_link_shows_only_that_clusters_restarts(admin_client, cluster):
    other = Cluster.objects.create(name="staging", core_address="10.0.1.11")
    spare = Node.objects.create(cluster=other, address="10.0.1.12", roles=["dea"])
    node = cluster.nodes.get(address="10.0.0.12")
    for n, c in [(node, cluster), (spare, other)]:
        FenceRestart.objects.create(node=n, cluster=c, node_address=n.address, started_at=timezone.now(),
                                    requested_by_username="alice", outcome="succeeded", reason="monthly")
    page = admin_client.get(next_links(admin_client.get(reverse("admin:index")).content.decode(), cluster)
                            ["Fence restart audit"]).content.decode()
    assert "10.0.0.12" in page and "10.0.1.12" not in page


def test_with_one_cluster_new_version_from_active_image_is_preselected(admin_client, cluster):
    page = admin_client.get(reverse("admin:images_imageversion_from_active")).content.decode()
    assert re.search(rf'<option value="{cluster.pk}" selected>prod', page)


def test_with_two_clusters_the_operator_chooses(admin_client, cluster):
    other = Cluster.objects.create(name="staging", core_address="10.0.1.11")
    page = admin_client.get(reverse("admin:images_imageversion_from_active")).content.decode()
    assert " selected>" not in page.split('name="cluster"', 1)[1].split("</select>")[0].replace(
        '<option value="" selected>', "")
    chosen = admin_client.get(reverse("admin:images_imageversion_from_active"), {"cluster": other.pk}).content.decode()
    assert re.search(rf'<option value="{other.pk}" selected>staging', chosen)
