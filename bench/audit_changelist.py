"""Time the fence restart audit with many rows: changelist pages and exports.

    .venv/bin/python bench/audit_changelist.py [--rows 300000] [--db PATH]

Builds a throwaway SQLite database (--db, deleted first; default: in a new
private temporary directory, never a fixed /tmp name another local user
could plant a link at), inserts the rows with
bulk_create, then requests the admin pages in-process through Django's test
client, so the numbers are server time without a network. Each page is
requested a few times; the table shows the median and the query count.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

REPEATS = 5
BATCH = 5000


def setup(db_path: Path):
    db_path.unlink(missing_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackato_dash.settings")
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)


def fill(rows: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from nodes.models import Cluster, FenceRestart, Node

    user = get_user_model().objects.create_superuser("bench", password="x")  # noqa: S106  throwaway user of a throwaway database
    clusters = [Cluster.objects.create(name=f"c{c}", core_address=f"10.{c}.0.11") for c in range(4)]
    nodes = [Node.objects.create(cluster=cluster, address=f"10.{c}.{n // 250}.{n % 250 + 2}", roles=["dea"])
             for c, cluster in enumerate(clusters) for n in range(100)]
    rollouts = [uuid.uuid4() for _ in range(rows // 400 + 1)]  # a rollout restarts ~100 nodes, four times a night
    start = timezone.now() - timedelta(days=365)
    for first in range(0, rows, BATCH):
        FenceRestart.objects.bulk_create(
            FenceRestart(node=nodes[i % len(nodes)], cluster=nodes[i % len(nodes)].cluster,
                         node_address=nodes[i % len(nodes)].address, started_at=start + timedelta(seconds=i * 100),
                         requested_by=user, requested_by_username=f"operator{i % 7}",
                         image_before=f"exampleco/newimg:1.0.{i // 400}", image_after=f"exampleco/newimg:1.0.{i // 400 + 1}",
                         outcome="failed" if i % 97 == 0 else "succeeded", correlation_id=rollouts[i // 400],
                         reason=f"release {i // 400}")
            for i in range(first, min(first + BATCH, rows)))
    return user, clusters, nodes, rollouts


def timed(client, url: str, streaming: bool = False):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(REPEATS):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            size = len(b"".join(response.streaming_content)) if streaming else len(response.content)
            times.append(time.perf_counter() - began)
        if response.status_code != 200:  # not an assert: it must hold under python -O too
            raise SystemExit(f"{url} answered {response.status_code}")
        queries = len(captured.captured_queries)
    return statistics.median(times), queries, size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    args.db = args.db or Path(tempfile.mkdtemp(prefix="audit-bench-")) / "db.sqlite3"
    setup(args.db)
    began = time.perf_counter()
    user, clusters, nodes, rollouts = fill(args.rows)
    print(f"inserted {args.rows} fence restarts in {time.perf_counter() - began:.1f} s (SQLite, {args.db})")

    from django.test import Client
    from django.urls import reverse
    middle = rollouts[len(rollouts) // 2]
    client = Client()
    client.force_login(user)
    changelist = reverse("admin:nodes_fencerestart_changelist")
    export = reverse("admin:nodes_fencerestart_export_csv")
    cases = [
        ("changelist, first page", changelist, False),
        ("changelist, middle page", changelist + f"?p={args.rows // 200}", False),
        ("filter: cluster", changelist + f"?cluster__id__exact={clusters[1].pk}", False),
        ("filter: node address", changelist + f"?node_address={nodes[5].address}", False),
        ("filter: outcome + user", changelist + "?outcome=failed&requested_by_username=operator3", False),
        ("filter: rollout", changelist + f"?correlation_id={middle}", False),
        ("search: image", changelist + f"?q=newimg:1.0.{len(rollouts) // 2}", False),
        ("export CSV, one rollout", export + f"?correlation_id={middle}", True),
        ("export CSV, one cluster", export + f"?cluster__id__exact={clusters[1].pk}", True),
    ]
    print(f"\n{'page':<28} {'median ms':>10} {'queries':>8} {'bytes':>11}")
    for name, url, streaming in cases:
        seconds, queries, size = timed(client, url, streaming)
        print(f"{name:<28} {seconds * 1000:>10.1f} {queries:>8} {size:>11}")


if __name__ == "__main__":
    main()
