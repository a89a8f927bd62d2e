"""Issue 11: a one-layer change over the base image, distributed to 5 Docker
nodes: does each node pull only the new layer's bytes?

    .venv/bin/python bench/layer_pull_bytes.py [--nodes 5] [--base-address 127.0.61.11]

Everything its own, as bench/rollout_vs_ansible.py: a temporary directory,
a Redis, the sandbox (--nodes DEAs and a Core, real dockerd per node and the
sandbox registry), an RQ worker pool. Two versions, each one `RUN` step over
the base image, pushed to the sandbox registry and then distributed by the
console ("distribute only": the product's own pull step on every DEA), one
after the other. The registry's log says which blobs were sent and how many
bytes (`http.response.written` of every GET of a blob): the bytes a node
pulled are the blobs the registry sent while the version was distributed.
Prints a table and writes <out-dir>/layer_pull_bytes.{json,md}. It measures
bytes, not time, and asserts nothing.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.rollout_bench import services  # noqa: E402

_BLOB_GET = re.compile(r'http\.request\.method=GET .*http\.request\.uri="?/v2/(?P<repo>[^ "]+)/blobs/(?P<digest>sha256:[0-9a-f]{64})"?'
                       r'.*http\.response\.status=(?P<status>\d+) http\.response\.written=(?P<written>\d+)')
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def manifest(registry: str, repository: str, digest: str) -> tuple[dict, list[dict]]:
    """The version's config blob and layers (compressed digest and size), base first."""
    request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{digest}",  # noqa: S310 sandbox registry
                                     headers={"Accept": MANIFEST_V2})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 loopback sandbox registry
        found = json.load(response)
    return ({"digest": found["config"]["digest"], "size": found["config"]["size"]},
            [{"digest": layer["digest"], "size": layer["size"]} for layer in found["layers"]])


def blob_gets(log: Path, offset: int) -> list[dict]:
    """Every GET of a blob the registry completed after `offset` in its log."""
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    return [{"digest": m["digest"], "status": int(m["status"]), "bytes": int(m["written"])}
            for m in map(_BLOB_GET.search, text.splitlines()) if m]


def distribute(version, user, nodes: int) -> dict:
    """The console's own pull step on every DEA (a distribute-only rollout)."""
    from images.models.rollout import Rollout
    from images.rollouts.start import rollout_version
    rollout = rollout_version(version, user=user, reason="bench: layer pull bytes", canaries=0,
                              max_in_flight=str(nodes), health_wait=0, distribute_only=True)
    deadline = time.monotonic() + 600
    while not Rollout.objects.filter(pk=rollout.pk, finished_at__isnull=False).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"rollout {rollout.pk} did not finish within 600 s")
        time.sleep(0.2)  # the bench waiting for the product, not a synchronisation inside it
    rollout.refresh_from_db()
    return {"status": rollout.status, "pull_outputs": [s.output[:160] for s in rollout.steps.filter(phase="pull")]}


def measure(sandbox: dict, cluster, user, nodes: int, tag: str) -> dict:
    from bench.rollout_bench import fleet
    registry = f"{sandbox['registry']['host']}:{sandbox['registry']['port']}"
    log = Path(sandbox["state_dir"]) / "registry" / "registry.log"
    version = fleet.push_version(sandbox, cluster, tag)
    config, found = manifest(registry, fleet.REPOSITORY, version.manifest_digest)
    offset = log.stat().st_size
    result = distribute(version, user, nodes)
    time.sleep(1)  # the registry writes its log line after the response: let the last ones land
    gets = [get for get in blob_gets(log, offset) if get["status"] == 200]
    new, base = found[-1], found[:-1]
    per_blob = {layer["digest"]: {"size": layer["size"], "gets": sum(g["digest"] == layer["digest"] for g in gets),
                                  "bytes_sent": sum(g["bytes"] for g in gets if g["digest"] == layer["digest"])}
                for layer in found}
    total = sum(g["bytes"] for g in gets)
    config_sent = sum(g["bytes"] for g in gets if g["digest"] == config["digest"])
    return {"tag": tag, "rollout": result, "layers": found, "new_layer": new["digest"],
            "new_layer_bytes": new["size"], "base_layer_bytes": sum(layer["size"] for layer in base),
            "config_blob": config, "config_bytes_sent": config_sent, "per_blob": per_blob, "bytes_sent": total, "bytes_per_node": round(total / nodes),
            "only_new_layer": all(per_blob[layer["digest"]]["gets"] == 0 for layer in base)
            and per_blob[new["digest"]]["gets"] == nodes}


def write(summary: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "layer_pull_bytes.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [f"# One-layer change to {summary['nodes']} Docker nodes ({summary['finished']})", "",
             "Bytes the sandbox registry sent (its log: GET of each blob, `http.response.written`) while the "
             "console distributed each version (distribute only: the product's pull step on every DEA). "
             "Each version is one `RUN` step over the base image; the DEAs got the base image by `docker import` "
             "when the sandbox started, not from the registry. Besides the layers, every node fetches the "
             "image's config blob (about 1.3 kB).", "",
             "| version | status | new layer bytes | base layer bytes | registry sent | per node | "
             "of it the image config (all nodes) | new-layer GETs | base-layer GETs | only the new layer |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for run in summary["runs"]:
        base_gets = sum(b["gets"] for d, b in run["per_blob"].items() if d != run["new_layer"])
        lines.append(f"| {run['tag']} | {run['rollout']['status']} | {run['new_layer_bytes']} | "
                     f"{run['base_layer_bytes']} | {run['bytes_sent']} | {run['bytes_per_node']} | {run['config_bytes_sent']} | "
                     f"{run['per_blob'][run['new_layer']]['gets']} | {base_gets} | {run['only_new_layer']} |")
    (out_dir / "layer_pull_bytes.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--base-address", default="127.0.61.11")
    parser.add_argument("--ssh-port", type=int, default=2222)
    parser.add_argument("--out-dir", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sbx-layer-"))
    redis_url, redis_process = services.start_redis(workdir)
    os.environ.update(STACKATO_DASH_VAR_DIR=str(workdir / "var"), DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
                      REDIS_URL=redis_url, SSH_PRIVATE_KEY_PATH=str(workdir / "client" / "id_ed25519"),
                      ARTIFACTS_DIR=str(workdir / "artifacts"), DJANGO_SETTINGS_MODULE="stackato_dash.settings",
                      INSECURE_REGISTRIES="127.0.0.0/8")  # the sandbox's registry speaks plain HTTP on loopback
    import django

    from sandbox import cluster as sandbox_cluster
    pool = None
    try:
        sandbox = sandbox_cluster.up(workdir / "sandbox", dea_count=args.nodes, docker=True, kato_version="3.0",
                                     base_address=args.base_address, ssh_port=args.ssh_port,
                                     client_key=workdir / "client" / "id_ed25519")
        django.setup()
        from django.conf import settings

        from bench.rollout_bench import fleet
        settings.SSH_PRIVATE_KEY_PATH = Path(sandbox["client_key"])
        cluster, user = fleet.prepare(workdir / "sandbox")
        pool = services.start_workers(args.nodes, workdir / "workers.log")
        services.wait_for_workers(args.nodes, pool)
        stamp = int(time.time())
        runs = [measure(sandbox, cluster, user, args.nodes, f"first-{stamp}"),
                measure(sandbox, cluster, user, args.nodes, f"second-{stamp}")]
        summary = {"nodes": args.nodes, "runs": runs, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    finally:
        services.stop(pool)
        try:
            sandbox_cluster.down(workdir / "sandbox", purge=True)
        finally:
            services.stop(redis_process)
            shutil.rmtree(workdir, ignore_errors=True)
    write(summary, args.out_dir)
    print((args.out_dir / "layer_pull_bytes.md").read_text())
    return summary


if __name__ == "__main__":
    main()
