"""A small run of bench/rollout_vs_ansible.py, so the benchmark cannot rot:
its own Redis, sandbox (3 DEAs) and worker pool, one real rollout that must
succeed with every restart verified and audited, the Ansible playbook
checked by `ansible-playbook --syntax-check` (the bench installs
bench/requirements.txt when missing), and its results written with the
run's CPU seconds by part (or why there are none). No timing
is asserted (benchmarks measure, tests do not)."""
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "rollout_vs_ansible.py"
# A loopback range of its own (.11 Core, .12-.14 DEAs), apart from the other sandboxes.
ADDRESS = os.environ.get("TEST_BENCH_SANDBOX_ADDRESS", "127.0.26.11")


def test_bench_smoke_run_rolls_out_checks_the_playbook_and_writes_its_results(tmp_path):
    out = tmp_path / "results"
    run = subprocess.run([sys.executable, str(BENCH), "--smoke", "--base-address", ADDRESS, "--out-dir", str(out)],  # noqa: S603  our own script
                         capture_output=True, text=True, timeout=1200, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((out / "rollout_vs_ansible.json").read_text())
    assert summary["nodes"] == 3 and {"nproc", "cpu", "ram_gib"} <= summary["machine"].keys()
    [ours] = summary["runs"]
    assert (ours["side"], ours["status"], ours["ok"]) == ("ours", "succeeded", True), ours
    assert ours["verified_restarts"] == 3 and ours["audit_rows"] == 3, ours
    assert {"pull", "config", "restart"} <= ours["steps"].keys()
    assert summary["ansible_syntax_check"]["syntax_check"], summary["ansible_syntax_check"]["output"]
    markdown = (out / "rollout_vs_ansible.md").read_text()
    assert "| 1 | main | ours | 2 |" in markdown
    # CPU seconds by part for the run, or why there are none (not root, no cgroup v1 cpuacct)
    cpu = summary["cpu_by_part"]
    if cpu["available"]:
        assert set(ours["cpu_s"]) == {"workers", "controller", "node sessions", "engines", "supervisord+fence",
                                      "registry", "redis", "other", "total"}, ours["cpu_s"]
        assert "CPU seconds by part" in markdown and "| 1 | main | ours |" in markdown.split("CPU seconds by part")[1]
        assert not Path(cpu["cgroup"]).exists(), "the bench's cgroups are removed at its end"
    else:
        assert cpu["reason"] and f"CPU by part: not available ({cpu['reason']})" in markdown
    assert (out / "rollout_vs_ansible.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
