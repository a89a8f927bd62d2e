"""The console with a big fleet and a long audit history, on SQLite and PostgreSQL.

    .venv/bin/python bench/console_at_scale.py [--nodes 1000] [--small 1000] [--large 1000000]
        [--databases sqlite,postgresql] [--postgres-url URL] [--out-dir bench/results]

For each database, in a child process of its own (one Django setup each): a
new database (SQLite in a private temporary directory; on PostgreSQL a
database `stackato_dash_bench` created with the role of --postgres-url, or
$BENCH_POSTGRES_URL, named by --postgres-database, and dropped afterwards), migrated; `--nodes` nodes in 4
clusters and `--small` fence restarts; every console page measured
(bench/console_scale/pages.py); the history grown to `--large` rows; every
page measured again; on PostgreSQL the search's plan (EXPLAIN ANALYZE).
Writes <out-dir>/console_at_scale.json and .md: medians, query counts, the
large/small ratio of each page against the goal (<= 1.5, same query count),
the CSV export's memory growth, and the machine.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess  # noqa: S404  runs this same script as a child, no shell
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BENCH_DATABASE = "stackato_dash_bench"
RATIO_GOAL = 1.5


def measure_one(args) -> dict:
    """In the child: build, measure small, grow, measure large."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackato_dash.settings")
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.console_scale import data, pages
    from nodes.models import FenceRestart
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    fleet = data.build_fleet(args.nodes, args.small, args.large)
    data.add_restarts(fleet, 0, args.small)
    data.add_steps(fleet, fleet.production_rollout)
    result = {"vendor": connection.vendor, "server": _server_version(connection), "scales": {}}
    client = pages.client_for(fleet)
    for rows, grow_from in ((args.small, None), (args.large, args.small)):
        if grow_from is not None:
            began = time.perf_counter()
            data.add_restarts(fleet, grow_from, rows)
        built = round(time.perf_counter() - began, 1)
        print(f"{connection.vendor}: {rows:,} rows ready ({built} s); measuring", flush=True)
        scale = {"rows": rows, "nodes": args.nodes, "build_seconds": built, "pages": {}}
        for name, url in pages.pages(fleet):
            scale["pages"][name] = pages.measure_page(client, url, args.repeats)
            print(f"  {name:<28} {scale['pages'][name]['median_ms']:>9.1f} ms "
                  f"{scale['pages'][name]['queries']:>3} queries", flush=True)
        # The SQL's tickets are the Python ones: the search finds the rows of one rollout.
        scale["search_matches"] = FenceRestart.objects.filter(reason__contains=pages.search_term(fleet)).count()
        # The filtered pages must match a full page at every size (like with like).
        scale["filter_matches"] = {
            "node address": FenceRestart.objects.filter(node_id=fleet.first_node_id).count(),
            "outcome": FenceRestart.objects.filter(outcome="failed").count(),
            "rollout": FenceRestart.objects.filter(correlation_id=fleet.rollout_id(fleet.production_rollout)).count()}
        print(f"  rows matched: {scale['filter_matches']}", flush=True)
        scale["export_csv"] = pages.measure_export(client)
        print(f"  export CSV: {scale['export_csv']}", flush=True)
        result["scales"][str(rows)] = scale
    if connection.vendor == "postgresql":
        result["search_plan"] = pages.explain_search(fleet)
    return result


def _server_version(connection) -> str:
    if connection.vendor == "sqlite":
        import sqlite3
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_sql(url: str, statement: str) -> None:
    import psycopg
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(statement)


def run_child(args, database_url: str, out: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(out), "--nodes", str(args.nodes),
               "--small", str(args.small), "--large", str(args.large), "--repeats", str(args.repeats)]
    environment = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(command, check=True, cwd=REPO, env=environment)  # noqa: S603  our own script, no shell
    return json.loads(out.read_text())


def machine(load_at_start) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    ram = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    import django
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(ram / 1024 / 1024, 1),
            "python": platform.python_version(), "django": django.get_version(),
            "load_average_at_start": load_at_start}


def compare(results: dict, small: int, large: int) -> list[dict]:
    """Each page's large/small time ratio and query counts, per database."""
    rows = []
    for vendor, result in results.items():
        lo, hi = result["scales"][str(small)], result["scales"][str(large)]
        for name, page in lo["pages"].items():
            big = hi["pages"][name]
            ratio = big["median_ms"] / page["median_ms"] if page["median_ms"] else None
            # The fastest of the repeats: what the page costs when no other work interrupts it.
            best = big["min_ms"] / page["min_ms"] if page["min_ms"] else None
            rows.append({"database": vendor, "page": name, "small_ms": page["median_ms"], "large_ms": big["median_ms"],
                         "ratio": round(ratio, 2) if ratio else None,
                         "ratio_of_fastest": round(best, 2) if best else None,
                         "small_queries": page["queries"],
                         "large_queries": big["queries"], "small_sql_ms": page["sql_median_ms"],
                         "large_sql_ms": big["sql_median_ms"], "small_rows_shown": page["rows_shown"],
                         "large_rows_shown": big["rows_shown"],
                         "meets_goal": bool(ratio and ratio <= RATIO_GOAL and page["queries"] == big["queries"])})
    return rows


def write(summary: dict, out_dir: Path, report) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "console_at_scale.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    (out_dir / "console_at_scale.md").write_text(report.markdown(summary))
    print(report.markdown(summary))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", ""))
    parser.add_argument("--postgres-database", default=DEFAULT_BENCH_DATABASE,
                        help="the throwaway database's name (letters, digits, _): dropped first and after")
    parser.add_argument("--out-dir", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database (printed) and the PostgreSQL one to look into")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--from-json", type=Path, help="only write the comparison and summary again from a run's JSON")
    args = parser.parse_args()
    if args.from_json:
        sys.path.insert(0, str(REPO))
        from bench.console_scale import report
        summary = json.loads(args.from_json.read_text())
        sizes = summary["settings"]
        summary["comparison"] = compare(summary["databases"], sizes["small"], sizes["large"])
        write(summary, args.out_dir, report)
        return
    if args.child:
        args.child.write_text(json.dumps(measure_one(args), indent=1, default=str))
        return
    sys.path.insert(0, str(REPO))
    from bench.console_scale import report
    work = Path(tempfile.mkdtemp(prefix="console-bench-"))
    print(f"work directory (SQLite database, per-database results): {work}")
    results = {}
    began, load_at_start = time.time(), os.getloadavg()
    for vendor in args.databases.split(","):
        if vendor == "sqlite":
            results[vendor] = run_child(args, f"sqlite:///{work / 'bench.sqlite3'}", work / "sqlite.json")
        elif vendor == "postgresql":
            if not args.postgres_url:
                raise SystemExit("PostgreSQL: give --postgres-url (or BENCH_POSTGRES_URL), "
                                 "a role that may create databases")
            name = args.postgres_database
            if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
                raise SystemExit(f"--postgres-database {name!r}: lower-case letters, digits and _ only")
            _admin_sql(args.postgres_url, f"DROP DATABASE IF EXISTS {name}")
            _admin_sql(args.postgres_url, f"CREATE DATABASE {name}")
            try:
                results[vendor] = run_child(args, _with_database(args.postgres_url, name), work / "postgresql.json")
            finally:
                if not args.keep:
                    _admin_sql(args.postgres_url, f"DROP DATABASE IF EXISTS {name}")
        else:
            raise SystemExit(f"unknown database {vendor!r}: sqlite or postgresql")
    summary = {"machine": {**machine(load_at_start), "load_average_at_end": os.getloadavg()},
               "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(began)),
               "minutes": round((time.time() - began) / 60, 1),
               "settings": {"nodes": args.nodes, "small": args.small, "large": args.large, "repeats": args.repeats},
               "ratio_goal": RATIO_GOAL, "comparison": compare(results, args.small, args.large), "databases": results}
    write(summary, args.out_dir, report)
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
