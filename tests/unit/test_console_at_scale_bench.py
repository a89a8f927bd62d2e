"""A small run of bench/console_at_scale.py, so the benchmark cannot rot:
it must build its data, request every page, stream the export and write its
results. No timing is asserted (benchmarks measure, tests do not)."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

BENCH = Path(__file__).resolve().parents[2] / "bench" / "console_at_scale.py"
PAGES = {"audit list", "audit filter: cluster", "audit filter: node address", "audit filter: user",
         "audit filter: outcome", "audit filter: rollout", "audit filter: month", "audit search", "node list",
         "node page", "home", "rollout page"}


def run_bench(tmp_path, *databases):
    command = [sys.executable, str(BENCH), "--nodes", "8", "--small", "20", "--large", "60", "--repeats", "1",
               "--databases", ",".join(databases), "--out-dir", str(tmp_path)]
    if "postgresql" in databases:
        command += ["--postgres-url", os.environ["DATABASE_URL"],
                    "--postgres-database", f"bench_smoke_{uuid.uuid4().hex[:12]}"]
    subprocess.run(command, check=True, capture_output=True, timeout=600,  # noqa: S603  our own script
                   env={**os.environ, "STACKATO_DASH_VAR_DIR": str(tmp_path / "var")})
    return json.loads((tmp_path / "console_at_scale.json").read_text()), (tmp_path / "console_at_scale.md").read_text()


def check_shape(summary, markdown, vendor):
    assert {"nproc", "cpu", "ram_gib"} <= summary["machine"].keys()
    rows = [row for row in summary["comparison"] if row["database"] == vendor]
    assert {row["page"] for row in rows} == PAGES
    for row in rows:
        assert row["small_ms"] > 0 and row["large_ms"] > 0 and row["small_queries"] > 0, row
    scales = summary["databases"][vendor]["scales"]
    assert [scale["export_csv"]["rows"] for scale in scales.values()] == [20, 60]
    assert [scale["pages"]["audit list"]["rows_shown"] for scale in scales.values()] == [20, 60]
    # 8 nodes: staging 2, three production clusters of 2; the searched (first production) rollout restarted 2.
    assert [scale["search_matches"] for scale in scales.values()] == [2, 2]
    assert f"| {vendor} | audit search |" in markdown


def test_bench_runs_on_sqlite_and_writes_its_results(tmp_path):
    summary, markdown = run_bench(tmp_path, "sqlite")
    check_shape(summary, markdown, "sqlite")


@pytest.mark.django_db  # kept in `make test`'s PostgreSQL run, which keeps only database tests
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL run of the suite only")
def test_bench_runs_on_postgresql_and_explains_the_search(tmp_path):
    summary, markdown = run_bench(tmp_path, "postgresql")
    check_shape(summary, markdown, "postgresql")
    plan = summary["databases"]["postgresql"]["search_plan"]
    assert plan["matching_rows"] > 0 and "nodes_fencerestart" in plan["page_plan"]
