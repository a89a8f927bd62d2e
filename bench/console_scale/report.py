"""The markdown summary of a bench/console_at_scale.py run."""


def markdown(summary: dict) -> str:
    machine, settings = summary["machine"], summary["settings"]
    small, large = settings["small"], settings["large"]
    lines = [
        "# Console at scale (bench/console_at_scale.py)", "",
        f"Run {summary['started']}, {summary['minutes']} min. {machine['nproc']} CPUs ({machine['cpu']}), "
        f"{machine['ram_gib']} GiB RAM, Python {machine['python']}, Django {machine['django']}; "
        f"load average {_load(machine['load_average_at_start'])} at start, {_load(machine['load_average_at_end'])} "
        "at the end (other helpers' test runs shared the machine).",
        *([" ".join(f"{vendor} run from {run['started']} (load {_load(run['load_average_at_start'])} at start)."
                    for vendor, run in summary["runs"].items())] if "runs" in summary else []),
        f"{settings['nodes']:,} nodes (a staging cluster of a few DEAs, 3 production clusters sharing the rest); "
        f"{small:,} then {large:,} fence restarts in the same database. "
        f"Server time through Django's test client (no network), median of {settings['repeats']} after a warm-up.", "",
        f"Goal: each page at {large:,} rows <= {summary['ratio_goal']} x the same page at {small:,} rows, "
        "with the same number of queries.", "",
        "ms: median server time of the page; ratio: of the medians (the goal's); fastest: ratio of the fastest "
        "requests (less disturbed by other work); SQL ms: median time in the database (small / large); "
        "rows shown: audit rows on the page (a filter matching few rows at the small size shows fewer).", "",
        f"| database | page | {small:,} rows ms | {large:,} rows ms | ratio | fastest | SQL ms | rows shown | queries "
        "| goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in summary["comparison"]:
        queries = (str(row["small_queries"]) if row["small_queries"] == row["large_queries"]
                   else f"{row['small_queries']} -> {row['large_queries']}")
        shown = "" if row["small_rows_shown"] is None else f"{row['small_rows_shown']} / {row['large_rows_shown']}"
        lines.append(f"| {row['database']} | {row['page']} | {row['small_ms']} | {row['large_ms']} | {row['ratio']} "
                     f"| {row.get('ratio_of_fastest')} "
                     f"| {row['small_sql_ms']} / {row['large_sql_ms']} | {shown} | {queries} "
                     f"| {'met' if row['meets_goal'] else 'MISSED'} |")
    matches = [f"{vendor} {scale['rows']:,} rows: " + ", ".join(f"{name} {count:,}" for name, count in
                                                           scale["filter_matches"].items())
               for vendor, result in summary["databases"].items() for scale in result["scales"].values()
               if "filter_matches" in scale]
    if matches:
        lines += ["", "Rows the filtered pages match (a full page of 100 at both sizes compares like with like): "
                  + "; ".join(matches) + "."]
    lines += ["", "CSV export of the whole history (resident memory of the process while it streams):", "",
              "| database | rows | seconds | MiB | RSS growth MiB | queries |", "|---|---:|---:|---:|---:|---:|"]
    for vendor, result in summary["databases"].items():
        for scale in result["scales"].values():
            export = scale["export_csv"]
            lines.append(f"| {vendor} | {export['rows']:,} | {export['seconds']} | {export['bytes'] / 2**20:.1f} "
                         f"| {export['rss_growth_mib']} | {export['queries']} |")
    plan = summary["databases"].get("postgresql", {}).get("search_plan")
    if plan:
        lines += ["", f"PostgreSQL search (`?q=...`, {plan['matching_rows']} matching rows): trigram index used: "
                      f"**{'yes' if plan['uses_trigram_index'] else 'NO'}**, sequential scan of the table: "
                      f"**{'yes' if plan['scans_table'] else 'no'}**.", "", "```", plan["page_plan"], "```",
                  "", "```", plan["count_plan"], "```"]
    builds = [f"{vendor} {scale['rows']:,} rows {scale['build_seconds']} s" for vendor, result in
              summary["databases"].items() for scale in result["scales"].values()]
    lines += ["", "Data generation (INSERT ... SELECT in the database): " + "; ".join(builds) + ".", ""]
    return "\n".join(lines)


def _load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "(not recorded)"
