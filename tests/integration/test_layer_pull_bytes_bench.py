"""A small run of bench/layer_pull_bytes.py, so the benchmark cannot rot:
its own Redis, sandbox (2 DEAs with real dockerd and the sandbox registry)
and worker pool; two one-layer versions distributed by the console, the
registry's log read for the blobs it sent. It asserts what the bench
reports about bytes (Docker's layer reuse on the nodes), never a time."""
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "layer_pull_bytes.py"
# A loopback range of its own (.11 Core, .12-.13 DEAs), apart from the other sandboxes.
ADDRESS = os.environ.get("TEST_LAYER_BENCH_SANDBOX_ADDRESS", "127.0.27.11")


def test_a_second_one_layer_version_sends_each_node_only_its_new_layer(tmp_path):
    out = tmp_path / "results"
    run = subprocess.run([sys.executable, str(BENCH), "--nodes", "2", "--base-address", ADDRESS,  # noqa: S603  our own script
                          "--out-dir", str(out)], capture_output=True, text=True, timeout=1200, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    first, second = json.loads((out / "layer_pull_bytes.json").read_text())["runs"]
    assert first["rollout"]["status"] == second["rollout"]["status"] == "succeeded"
    # Every node fetched each version's new layer once.
    assert first["per_blob"][first["new_layer"]]["gets"] == second["per_blob"][second["new_layer"]]["gets"] == 2
    # The second version: no base-layer byte, only the new layer and the image config.
    assert second["only_new_layer"], second["per_blob"]
    assert second["bytes_sent"] == 2 * second["new_layer_bytes"] + second["config_bytes_sent"]
    assert "| True |" in (out / "layer_pull_bytes.md").read_text()
