"""The fence restart audit: filters, exports of the filtered set, the node
page's history, and query counts that do not grow with the rows."""
import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db

ROWS = 200
ROLLOUT = uuid.uuid4()
CHANGELIST = "admin:nodes_fencerestart_changelist"


@pytest.fixture
def history(admin_user):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    other = Cluster.objects.create(name="staging", core_address="10.0.1.11")
    nodes = [Node.objects.create(cluster=cluster, address=f"10.0.0.{i}", roles=["dea"]) for i in (12, 13)]
    spare = Node.objects.create(cluster=other, address="10.0.1.12", roles=["dea"])
    start = timezone.now() - timedelta(days=1)
    FenceRestart.objects.bulk_create(
        FenceRestart(node=nodes[i % 2], cluster=cluster, node_address=nodes[i % 2].address,
                     started_at=start + timedelta(minutes=i), requested_by=admin_user,
                     requested_by_username="alice" if i % 4 else "bob", image_before="img:1.0.0",
                     image_after="img:1.0.1" if i < ROWS - 10 else "img:2.0.0",
                     outcome="succeeded" if i % 10 else "failed", correlation_id=ROLLOUT if i < 50 else uuid.uuid4(),
                     reason="monthly release")
        for i in range(ROWS))
    FenceRestart.objects.create(node=spare, cluster=other, node_address=spare.address, started_at=start,
                                requested_by_username="carol", outcome="errored", reason="staging test")
    return {"cluster": cluster, "other": other, "nodes": nodes}


def test_changelist_queries_stay_few_with_filters_and_search(admin_client, history, django_assert_max_num_queries):
    # session, user; cluster, rollout and user filter choices; one count; the
    # page's rows with their cluster; date hierarchy bounds and days; three
    # reads for each hash chain's badge, fence restarts and rollout events
    # (nodes/audit_verify.py; the first view after new rows also writes how
    # far it verified, done here before counting).
    admin_client.get(reverse(CHANGELIST))
    for query in ["", f"?cluster__id__exact={history['cluster'].pk}", "?outcome=failed&requested_by_username=bob",
                  "?q=2.0.0", f"?node_address=10.0.0.12&correlation_id={ROLLOUT}"]:
        with django_assert_max_num_queries(15):
            response = admin_client.get(reverse(CHANGELIST) + query)
        assert response.status_code == 200, query


def test_filters_select_the_rows(admin_client, history):
    def count(query):
        return admin_client.get(reverse(CHANGELIST) + query).context["cl"].result_count

    assert count("?q=2.0.0") == 10
    assert count("?node_address=10.0.0.12") == ROWS // 2
    assert count(f"?correlation_id={ROLLOUT}") == 50
    assert count("?requested_by_username=carol") == 1
    assert count(f"?cluster__id__exact={history['other'].pk}&outcome=errored") == 1


def test_export_contains_exactly_the_filtered_rows(admin_client, history, django_assert_max_num_queries):
    query = f"?correlation_id={ROLLOUT}&outcome=failed"
    # The changelist's own queries (its count included) and one streamed SELECT.
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:nodes_fencerestart_export_csv") + query)
        body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5 and {row["outcome"] for row in rows} == {"failed"}
    assert {row["correlation_id"] for row in rows} == {str(ROLLOUT)} and rows[0]["cluster_name"] == "prod"

    response = admin_client.get(reverse("admin:nodes_fencerestart_export_json") + "?q=staging")
    exported = json.loads(b"".join(response.streaming_content))
    assert [row["node_address"] for row in exported] == ["10.0.1.12"]


def test_the_changelist_links_exports_of_its_own_filter(admin_client, history):
    page = admin_client.get(reverse(CHANGELIST) + "?outcome=failed").content.decode()
    assert reverse("admin:nodes_fencerestart_export_csv") + "?outcome=failed" in page


def test_export_needs_the_view_permission(client, django_user_model, history):
    client.force_login(django_user_model.objects.create_user("nobody", password="x", is_staff=True))
    assert client.get(reverse("admin:nodes_fencerestart_export_csv")).status_code == 403


def test_node_page_shows_its_recent_restarts_and_links_the_rest(admin_client, history):
    node = history["nodes"][0]
    page = admin_client.get(reverse("admin:nodes_node_change", args=[node.pk])).content.decode()
    assert page.count("monthly release") == 20
    assert reverse(CHANGELIST) + "?node_address=10.0.0.12" in page


def test_date_drill_down_is_the_calendar_between_first_and_last(admin_client, history):
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    first = FenceRestart.objects.earliest().started_at
    assert f"started_at__year={timezone.localtime(first).year}" in page
    month = admin_client.get(reverse(CHANGELIST) + f"?started_at__year={first.year}&started_at__month={first.month}")
    assert f"started_at__day={timezone.localtime(first).day}" in month.content.decode()
