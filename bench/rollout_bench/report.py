"""results/rollout_vs_ansible.{json,md,png}: every run, the medians, the
goals of issue 11 with met / missed, the machine and its load."""
import json
import math
import statistics
from pathlib import Path


def limit_seconds(summary: dict) -> float:
    """Issue 11's physical limit of the plan: one pull round, one config set,
    then (1 canary + ceil((N-1)/in flight)) batches of one restart, each with
    the health wait; a pull and a restart as plain ssh measures them."""
    base = summary["baseline"]
    nodes, in_flight = summary["nodes"], summary["max_in_flight"]
    batches = 1 + math.ceil((nodes - 1) / in_flight)
    return round(base["pull_s"] + base["config_set_s"] + batches * (base["restart_s"] + summary["health_wait"]), 2)


def _fastest(runs, side, **match):
    times = [r["seconds"] for r in runs if r["side"] == side and r.get("ok")
             and all(r.get(k) == v for k, v in match.items())]
    return min(times) if times else None


def goals(summary: dict) -> list[dict]:
    runs, rows = summary["runs"], []
    ansible = _fastest(runs, "ansible", scenario="main")
    ours = _fastest(runs, "ours", scenario="main")
    if ours is not None and ansible is not None:
        rows.append({"goal": "ours <= 0.75 x Ansible's fastest", "target_s": round(0.75 * ansible, 2),
                     "measured_s": ours, "met": ours <= 0.75 * ansible})
    if ours is not None and summary.get("baseline"):
        limit = limit_seconds(summary)
        rows.append({"goal": f"ours <= 1.25 x the limit ({limit} s) + 1 s", "target_s": round(1.25 * limit + 1, 2),
                     "measured_s": ours, "met": ours <= 1.25 * limit + 1})
    hw5 = _fastest(runs, "ours", scenario="health_wait_5")
    if hw5 is not None and summary.get("baseline"):
        limit = limit_seconds({**summary, "health_wait": 5})
        rows.append({"goal": f"health wait 5 s: ours <= 1.25 x the limit ({limit} s) + 1 s",
                     "target_s": round(1.25 * limit + 1, 2), "measured_s": hw5, "met": hw5 <= 1.25 * limit + 1})
    by_workers = [r for r in runs if r["scenario"] == "workers"]
    scaling = sorted((r["workers"], r["seconds"]) for r in by_workers if r.get("ok"))
    if len(scaling) > 1:
        # A run that did not succeed leaves its step unshown: never "met" over a gap.
        failed = [f"{r['workers']} workers {r['seconds']} s {r.get('status', 'failed')}"
                  for r in by_workers if not r.get("ok")]
        falls = not failed and all(b[1] < a[1] for a, b in zip(scaling, scaling[1:]))
        rows.append({"goal": "1, 2, 4, 10 workers at max in flight 20: wall time falls with each step",
                     "measured": ", ".join([f"{w} workers {s} s" for w, s in scaling] + failed), "met": falls})
    return rows


def write(summary: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary["goals"] = goals(summary)
    (out_dir / "rollout_vs_ansible.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out_dir / "rollout_vs_ansible.md").write_text(markdown(summary))
    chart(summary, out_dir / "rollout_vs_ansible.png")


def markdown(summary: dict) -> str:
    m = summary["machine"]
    lines = [f"# Rollout vs Ansible ({summary['finished']})", "",
             f"{summary['nodes']} DEA nodes + Core (sandbox, real sshd/dockerd/registry/supervisord), "
             f"canaries 1, max in flight {summary['max_in_flight']}, health wait {summary['health_wait']} s, "
             f"{summary['workers']} RQ workers (rqworker-pool), SQLite; Ansible {summary.get('ansible_version', '?')}, "
             f"forks {summary['workers']}. Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, "
             f"shared with other test runs (load average per run below).", "",
             "| # | scenario | side | workers | in flight | health wait | seconds | ok | load avg (1 min) | audit rows | "
             "mean pull s | mean restart s | config reads |", "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(summary["runs"], 1):
        steps = r.get("steps", {})
        lines.append(f"| {i} | {r['scenario']} | {r['side']} | {r.get('workers', '')} | {r.get('max_in_flight', '')} | "
                     f"{r.get('health_wait', '')} | {r.get('seconds', '')} | {r.get('ok')} | {r.get('load_1min', '')} | "
                     f"{r.get('audit_rows', '')} | {steps.get('pull', {}).get('mean_s', '')} | "
                     f"{steps.get('restart', {}).get('mean_s', '')} | {r.get('config_reads', '')} |")
    for side in ("ours", "ansible"):
        times = [r["seconds"] for r in summary["runs"] if r["side"] == side and r["scenario"] == "main" and r.get("ok")]
        if times:
            lines += ["", f"{side}: median {statistics.median(times)} s, fastest {min(times)} s over {len(times)} runs."]
    if summary.get("baseline"):
        b = summary["baseline"]
        lines += ["", f"Plain ssh on one DEA: docker pull {b['pull_s']} s, kato config set {b['config_set_s']} s, "
                  f"kato process restart fence {b['restart_s']} s; limit of the plan {limit_seconds(summary)} s."]
    if summary.get("goals"):
        lines += ["", "| goal | target | measured | met |", "|---|---|---|---|"]
        for g in summary["goals"]:
            lines.append(f"| {g['goal']} | {g.get('target_s', '')} | {g.get('measured_s', g.get('measured', ''))} | "
                         f"{'met' if g['met'] else '**missed**'} |")
    lines += cpu_table(summary)
    if summary.get("profile"):
        lines += ["", "Profile of one rollout (py-spy, all workers and work horses, wall clock incl. waits): "
                  "share of samples by where they were", "", "| where | share |", "|---|---:|"]
        lines += [f"| {k} | {v} % |" for k, v in summary["profile"]["by_category"].items()]
    return "\n".join(lines) + "\n"


def cpu_table(summary: dict) -> list[str]:
    cpu = summary.get("cpu_by_part") or {}
    if not cpu.get("available"):
        return ["", f"CPU by part: not available ({cpu.get('reason') or 'not measured'})."]
    parts = cpu["parts"]
    lines = ["", "CPU seconds by part: what each part of the machine used during each timed run (cgroup v1 "
             "cpuacct; processes placed by their pids, children inherit: workers = the RQ pool and its work "
             "horses, controller = the bench process with ansible-playbook and its ssh clients (during ours only "
             "the bench's polling), node sessions = every node's sshd with its sessions, kato and docker CLI, "
             "engines = dockerd + containerd, redis = the bench's and config_redis; other = the machine's busy "
             "CPU from /proc/stat minus the parts, i.e. the kernel, containers and anything else running). "
             "Every node shares the machine's CPUs, so a run's wall time is about its total / the CPUs.", "",
             "| # | scenario | side | seconds | total | " + " | ".join(parts) + " |",
             "|---|---|---|---:|---:|" + "---:|" * len(parts)]
    for i, r in enumerate(summary["runs"], 1):
        if r.get("cpu_s"):
            lines.append(f"| {i} | {r['scenario']} | {r['side']} | {r.get('seconds', '')} | {r['cpu_s']['total']} | "
                         + " | ".join(str(r["cpu_s"][p]) for p in parts) + " |")
    return lines


def chart(summary: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    runs = [r for r in summary["runs"] if "seconds" in r]
    figure, axis = pyplot.subplots(figsize=(9, 4.5))
    labels = [f"{r['side']}\n{r['scenario']}" + (f"\n{r['workers']}w" if r["scenario"] == "workers" else "")
              for r in runs]
    colours = ["tab:blue" if r["side"] == "ours" else "tab:orange" for r in runs]
    axis.bar(range(len(runs)), [r["seconds"] for r in runs], color=colours)
    axis.set_xticks(range(len(runs)), labels, fontsize=7)
    if summary.get("baseline"):
        axis.axhline(limit_seconds(summary), color="grey", linestyle="--", label="limit of the plan (health wait 0)")
        axis.legend()
    axis.set_ylabel("seconds, rollout_version() to succeeded / playbook run")
    axis.set_title(f"{summary['nodes']} DEA nodes: stackato_dash (blue) vs Ansible (orange)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
