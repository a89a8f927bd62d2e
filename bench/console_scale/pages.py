"""What bench/console_at_scale.py measures on one database: each console
page's server time and query count (Django's test client, in-process, no
network), the CSV export's memory while it streams, and PostgreSQL's plan
for the audit search."""
import statistics
import time
from pathlib import Path

from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.console_scale.data import CLUSTERS, Fleet, ticket


def search_term(fleet: Fleet) -> str:
    """The first production rollout's ticket: the same rows match at any scale."""
    return ticket(fleet.production_rollout)


def pages(fleet: Fleet) -> list[tuple[str, str]]:
    """(name, URL) of every page measured; the same URLs at every scale."""
    from nodes.models import Node

    audit = reverse("admin:nodes_fencerestart_changelist")
    first = fleet.origin
    # The node filtered is staging's canary (every staging rollout restarts
    # it), the rollout the first production one: 100+ rows at every size.
    canary = Node.objects.get(pk=fleet.first_node_id).address
    production = fleet.rollout_id(fleet.production_rollout)
    return [
        ("audit list", audit),
        ("audit filter: cluster", f"{audit}?cluster__id__exact={fleet.cluster_ids[1]}"),
        ("audit filter: node address", f"{audit}?node_address={canary}"),
        ("audit filter: user", f"{audit}?requested_by_username=operator3"),
        ("audit filter: outcome", f"{audit}?outcome=failed"),
        ("audit filter: rollout", f"{audit}?correlation_id={production}"),
        ("audit filter: month", f"{audit}?started_at__year={first.year}&started_at__month={first.month}"),
        ("audit search", f"{audit}?q={search_term(fleet)}"),
        ("node list", reverse("admin:nodes_node_changelist")),
        ("node page", reverse("admin:nodes_node_change", args=[fleet.first_node_id])),
        ("home", reverse("admin:index")),
        ("rollout page", reverse("admin:images_rollout_change", args=[production])),
    ]


def client_for(fleet: Fleet) -> Client:
    from django.contrib.auth import get_user_model
    client = Client()
    client.force_login(get_user_model().objects.get(pk=fleet.user_id))
    return client


def measure_page(client: Client, url: str, repeats: int) -> dict:
    """Median server time of `repeats` requests after one warm-up, and the queries of the last."""
    client.get(url)
    times, sql_times = [], []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - began)
        if response.status_code != 200:  # not an assert: it must hold under python -O too
            raise SystemExit(f"{url} answered {response.status_code}")
        # Time in the database (Django's debug cursor, ms resolution on SQLite).
        sql_times.append(sum(float(query["time"]) for query in captured.captured_queries))
    # Audit rows on the page: each has one node address cell.
    shown = response.content.count(b'class="field-node_address"') if "fencerestart" in url else None
    # The slowest queries of the last request: where a page's SQL time goes.
    slowest = sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:3]
    return {"url": url, "median_ms": round(statistics.median(times) * 1000, 1),
            "min_ms": round(min(times) * 1000, 1), "sql_median_ms": round(statistics.median(sql_times) * 1000, 1),
            "queries": len(captured.captured_queries), "bytes": len(response.content),
            "rows_shown": shown,
            "slowest_queries": [{"ms": round(float(query["time"]) * 1000, 1), "sql": query["sql"][:600]}
                                for query in slowest]}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_export(client: Client) -> dict:
    """The whole history as CSV: the process's resident memory is sampled
    while the response streams; flat memory = the same growth at any size."""
    url = reverse("admin:nodes_fencerestart_export_csv")
    before = peak = _rss_kib()
    size = rows = 0
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += 1
            if rows % 500 == 0:
                peak = max(peak, _rss_kib())
    peak = max(peak, _rss_kib())
    return {"url": url, "seconds": round(time.perf_counter() - began, 2), "bytes": size, "rows": rows - 1,
            "rss_before_mib": round(before / 1024, 1), "rss_growth_mib": round((peak - before) / 1024, 1),
            "queries": len(captured.captured_queries)}


def explain_search(fleet: Fleet) -> dict:
    """PostgreSQL's plan for the search page's rows, as the admin builds the
    query: it must read a trigram index, not scan the table."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    from nodes.models import FenceRestart

    request = RequestFactory().get(reverse("admin:nodes_fencerestart_changelist"), {"q": search_term(fleet)})
    request.user = get_user_model().objects.get(pk=fleet.user_id)
    model_admin = admin.site._registry[FenceRestart]
    queryset = model_admin.get_changelist_instance(request).get_queryset(request)
    page_plan = queryset[:100].explain(analyze=True)
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:  # the paginator's count, as Django words it
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) AS matching", params)
        count_plan = "\n".join(row[0] for row in cursor.fetchall())
    return {"page_plan": page_plan, "count_plan": count_plan,
            "uses_trigram_index": "_trgm" in page_plan and "_trgm" in count_plan,
            "scans_table": "Seq Scan on nodes_fencerestart" in page_plan + count_plan,
            "matching_rows": queryset.count(), "clusters": CLUSTERS}
