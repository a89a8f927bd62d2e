"""The audit's search box is served by trigram indexes (nodes/audit_search.py,
nodes migration 0008), so a search does not read the whole history, and it
finds the same rows as before."""
import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from nodes import audit_search
from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes: PostgreSQL only")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 table: SQLite only")


@pytest.fixture
def history():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    rows = [("exampleco/newimg:1.0.0", "exampleco/newimg:1.0.1", "Monthly release CHG-0042"),
            ("exampleco/newimg:1.0.1", "exampleco/other:2.0", "hotfix for \"quoted\" bug"),
            ("exampleco/other:2.0", "exampleco/newimg:1.0.1", "roll back CHG-0042")]
    FenceRestart.objects.bulk_create(
        FenceRestart(node=node, cluster=cluster, node_address=node.address,
                     started_at=timezone.now() - timedelta(minutes=i), requested_by_username="alice",
                     image_before=before, image_after=after, outcome="succeeded", correlation_id=uuid.uuid4(),
                     reason=reason) for i, (before, after, reason) in enumerate(rows))


def search_queryset(user, term):
    request = RequestFactory().get(reverse("admin:nodes_fencerestart_changelist"), {"q": term})
    request.user = user
    return admin.site._registry[FenceRestart].get_changelist_instance(request).get_queryset(request)


def found(user, term):
    return sorted(search_queryset(user, term).values_list("reason", flat=True))


def test_search_finds_substrings_in_any_column_whatever_the_case(admin_user, history):
    assert found(admin_user, "chg-0042") == ["Monthly release CHG-0042", "roll back CHG-0042"]
    assert found(admin_user, "OTHER:2") == ["Monthly release CHG-0042", "hotfix for \"quoted\" bug",
                                            "roll back CHG-0042"][1:]
    assert found(admin_user, "newimg:1.0.0") == ["Monthly release CHG-0042"]
    assert found(admin_user, '"roll back" 0042') == ["roll back CHG-0042"]  # a phrase and a word: both
    assert found(admin_user, 'quoted"') == ["hotfix for \"quoted\" bug"]
    assert found(admin_user, "ix") == ["hotfix for \"quoted\" bug"]  # shorter than a trigram: LIKE alone
    assert found(admin_user, "CHG-0043") == []


@sqlite_only
def test_sqlite_search_reads_the_fts_index(admin_user, history):
    sql, params = search_queryset(admin_user, "CHG-0042")[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(row[-1] for row in cursor.fetchall())
    # The history's rows are looked up by id from the FTS matches, never scanned.
    assert f"SCAN {audit_search.FTS} VIRTUAL TABLE INDEX" in plan, plan
    assert f"SEARCH {audit_search.TABLE} USING INTEGER PRIMARY KEY" in plan, plan
    assert f"SCAN {audit_search.TABLE} " not in plan + " ", plan


def test_every_searched_column_is_indexed():
    assert list(admin.site._registry[FenceRestart].search_fields) == audit_search.SEARCHED


@postgresql_only
def test_postgresql_has_a_trigram_index_per_searched_column():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [audit_search.TABLE])
        definitions = dict(cursor.fetchall())
    for column in audit_search.SEARCHED:
        assert "gin_trgm_ops" in definitions[audit_search.postgresql_index(column)]


@postgresql_only
def test_the_admin_search_query_can_use_the_trigram_indexes(admin_user, history):
    # With few rows the planner rightly prefers reading the table (or walking
    # the started_at index); forbidding both shows whether the indexes can
    # answer the admin's own query at all (an index on another expression than
    # Django's UPPER(col::text) could not: the plan would fall back to a scan).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = search_queryset(admin_user, "CHG-0042").explain()
    assert "Seq Scan" not in plan and "Bitmap Index Scan" in plan
    for column in audit_search.SEARCHED:
        assert audit_search.postgresql_index(column) in plan


def test_a_search_narrows_the_date_drill_down_to_its_matches(admin_client, history):
    # Few matches: their span is aggregated (not walked from either end of the
    # time index, which reads the whole history when the matches are old).
    first = FenceRestart.objects.filter(reason__contains="CHG-0042").earliest().started_at
    page = admin_client.get(reverse("admin:nodes_fencerestart_changelist") + "?q=CHG-0042").content.decode()
    assert "2 results" in page and f"started_at__day={timezone.localtime(first).day}" in page
