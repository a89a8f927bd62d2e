"""The audit changelist stays cheap with a long history: its count stops a
few pages ahead (nodes/admin/audit_paging.py) and the username filter lists
names without reading every row."""
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from nodes.admin import audit_paging
from nodes.admin.fence_restart_admin import FenceRestartAdmin
from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:nodes_fencerestart_changelist")


@pytest.fixture
def restarts():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    start = timezone.now() - timedelta(days=1)
    FenceRestart.objects.bulk_create(
        FenceRestart(node=node, cluster=cluster, node_address=node.address, started_at=start + timedelta(minutes=i),
                     requested_by_username=["zoe", "alice", "bob"][i % 3], outcome="succeeded",
                     correlation_id=uuid.uuid4(), reason=f"release {i}" if i < 28 else "hotfix")
        for i in range(30))


@pytest.fixture
def small_pages(monkeypatch):
    """5 rows a page, a count that stops at 20 rows or 2 pages ahead."""
    monkeypatch.setattr(FenceRestartAdmin, "list_per_page", 5)
    monkeypatch.setattr(audit_paging, "CAP", 20)
    monkeypatch.setattr(audit_paging, "PAGES_AHEAD", 2)


def count_text(response):
    page = response.content.decode()
    start = page.index('id="audit-count">') + len('id="audit-count">')
    return page[start:page.index("</span>", start)]


def test_a_long_history_is_counted_only_a_few_pages_ahead(admin_client, restarts, small_pages):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST)
    assert count_text(response) == "more than 20"
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 21" in sql for sql in counts)
    # The pages links reach past the first page; a later page widens the count.
    assert "?p=2" in response.content.decode()
    later = admin_client.get(CHANGELIST + "?p=4")
    assert later.status_code == 200 and count_text(later) == "30"


def test_a_short_result_shows_its_exact_count(admin_client, restarts, small_pages):
    response = admin_client.get(CHANGELIST + "?q=hotfix")
    assert count_text(response) == "2" and "2 results" in response.content.decode()
    assert "more than 20 results" in admin_client.get(CHANGELIST + "?q=release").content.decode()


def test_the_username_filter_lists_each_name_once_in_order(admin_client, restarts):
    response = admin_client.get(CHANGELIST)
    spec = next(spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "requested_by_username")
    assert spec.names() == ["alice", "bob", "zoe"]
    assert 'href="?requested_by_username=zoe"' in response.content.decode()
    assert response.context["cl"].result_count == 30
    assert admin_client.get(CHANGELIST + "?requested_by_username=bob").context["cl"].result_count == 10
