"""A 50-node rollout by the console against the same work by an Ansible playbook.

    .venv/bin/python bench/rollout_vs_ansible.py [--nodes 50] [--reps 3] [--workers 10]
        [--base-address 127.0.60.11] [--extras health_wait_5,workers] [--profile] [--out-dir bench/results]

One command, everything its own: a temporary directory with a SQLite
database, a Redis (random port and password), the sandbox cluster (--nodes
DEAs and a Core on --base-address...), an RQ worker pool (rqworker-pool
--num-workers), a one-RUN-step version pushed to the sandbox registry and
pulled once on every DEA before any timed run (the warm-up: the DEAs got the
base image by `docker import`, so an engine's first pull of a version over
it fetches and extracts the base layer again and later pulls only the new
layer; without it the first run, always ours, paid that alone). Then,
alternately --reps times each: our rollout (canaries 1, max in flight 10,
health wait 0) and the playbook (rollout_bench/ansible_side.py), every node
put back on the base image and the version removed from its engine between
runs. Each run records its CPU seconds by part (rollout_bench/cpu_parts.py:
cgroup v1 cpuacct, as root; without it "not available" and why). --extras adds our side with health wait 5 s and with 1, 2, 4, 10
workers at max in flight 20; --profile runs py-spy on the workers during one
more rollout. Writes <out-dir>/rollout_vs_ansible.{json,md,png}.
--smoke: 3 nodes, one rollout, and only `ansible-playbook --syntax-check`
(the suite's run, tests/integration/test_rollout_vs_ansible_bench.py).
The bench installs bench/requirements.txt into the venv running it when
ansible-playbook or matplotlib is missing (--no-install: fail instead).
"""
import argparse
import os
import platform
import shutil
import subprocess  # noqa: S404  pip, ssh, our own manage.py; argv lists
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.rollout_bench import ansible_side, cpu_parts, profiling, report, services  # noqa: E402


def ensure_requirements(install: bool) -> None:
    try:
        import matplotlib  # noqa: F401
        have = bool(ansible_side.ansible_playbook()) and bool(profiling.py_spy())
    except ImportError:
        have = False
    if have:
        return
    if not install:
        raise SystemExit("bench/requirements.txt is not installed (run without --no-install to install it)")
    # Wheels only, every one pinned by constraints.txt: pip talks to its index
    # (PyPI in CI) and nothing else, and no package's setup code runs.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--only-binary=:all:",  # noqa: S603
                    "-r", str(REPO / "bench" / "requirements.txt"), "-c", str(REPO / "constraints.txt")], check=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--max-in-flight", default="10")
    parser.add_argument("--health-wait", type=int, default=0)
    parser.add_argument("--base-address", default="127.0.60.11")
    parser.add_argument("--ssh-port", type=int, default=2222)
    parser.add_argument("--extras", default="", help="comma-separated: health_wait_5, workers")
    parser.add_argument("--worker-counts", default="1,2,4,10")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.nodes, args.reps, args.workers, args.extras, args.profile = 3, 1, 2, "", False
    return args


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    ram = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(ram / 1024 / 1024, 1),
            "python": platform.python_version(), "host": platform.node()}


def plain_ssh_baseline(sandbox: dict, version) -> dict:
    """One DEA over OpenSSH, a new connection per command: the plan's physical parts."""
    from sandbox import layout
    dea, core = layout.deas(sandbox)[0], layout.node(sandbox, "core")
    known = Path(tempfile.mkdtemp(prefix="bkh-")) / "known_hosts"
    from sandbox import sshd
    known.write_text("".join(f"[{n['address']}]:{n['ssh_port']} "
                             f"{' '.join(sshd.host_key(n).with_suffix('.pub').read_text().split()[:2])}\n"
                             for n in (dea, core)))

    def timed(node, command):
        began = time.monotonic()
        subprocess.run(["ssh", "-i", sandbox["client_key"], "-p", str(node["ssh_port"]), "-o", "IdentitiesOnly=yes",  # noqa: S603 S607
                        "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
                        f"{node['ssh_user']}@{node['address']}", command], check=True, capture_output=True, timeout=300)
        return round(time.monotonic() - began, 2)
    result = {"pull_s": timed(dea, f"docker pull {version.pull_reference}"),
              "config_set_s": timed(core, f"kato config set fence docker/image {version.registry_reference}"),
              "restart_s": timed(dea, "kato process restart fence")}
    shutil.rmtree(known.parent, ignore_errors=True)
    return result


class Bench:
    def __init__(self, args, workdir: Path, redis_pid: int):
        self.args, self.workdir, self.pool, self.pool_size = args, workdir, None, 0
        self.runs, self.summary, self.redis_pid = [], None, redis_pid
        self.cpu = cpu_parts.CpuParts()

    def workers(self, count: int) -> None:
        if self.pool_size == count and self.pool.poll() is None:
            return
        services.stop(self.pool)
        services.clear_dead_workers()
        self.pool = services.start_workers(count, self.workdir / "workers.log")
        services.wait_for_workers(count, self.pool)
        self.cpu.place("workers", self.pool.pid)  # the pool and its workers; their work horses inherit it
        self.pool_size = count

    def ours(self, scenario: str, *, workers: int, max_in_flight: str, health_wait: int, profile: Path | None = None):
        from bench.rollout_bench import fleet, ours
        self.workers(workers)
        fleet.reset(self.sandbox, self.version)
        load = os.getloadavg()[0]
        spy = profiling.start(self.pool.pid, profile) if profile else None
        cpu_before = self.cpu.read()
        try:
            run = ours.run(self.version, self.user, nodes=self.args.nodes, health_wait=health_wait,
                           max_in_flight=max_in_flight)
        finally:
            cpu_after = self.cpu.read()
            if spy:
                spy.send_signal(2)
                spy.wait(60)
        run.update(scenario=scenario, workers=workers, max_in_flight=max_in_flight, health_wait=health_wait,
                   load_1min=round(load, 2), cpu_s=self.cpu.between(cpu_before, cpu_after))
        print(f"ours {scenario} ({workers} workers, in flight {max_in_flight}, health wait {health_wait}): "
              f"{run['seconds']} s, {run['status']}, {run['verified_restarts']} verified restarts", flush=True)
        if not profile:
            self.record(run)
        return run

    def record(self, run: dict) -> None:
        """Kept, and the results written again after every run: a long run
        stopped half-way still leaves what it measured."""
        self.runs.append(run)
        if self.summary is not None and not self.args.smoke:
            report.write({**self.summary, "finished": "(partial: still running)"}, self.args.out_dir)

    def ansible(self, scenario: str = "main"):
        from bench.rollout_bench import fleet
        from sandbox import layout
        from sandbox.nodeside import fence_status
        fleet.reset(self.sandbox, self.version)
        load = os.getloadavg()[0]
        cpu_before = self.cpu.read()
        run = ansible_side.run(self.workdir / "ansible", self.version, log=self.workdir / "ansible.log")
        run["cpu_s"] = self.cpu.between(cpu_before, self.cpu.read())
        on_target = sum(fence_status.read(self.sandbox, n).get("image") == self.version.registry_reference
                        for n in layout.deas(self.sandbox))
        run.update(scenario=scenario, workers=self.args.workers, max_in_flight=self.args.max_in_flight,
                   health_wait=0, load_1min=round(load, 2), fences_on_target=on_target,
                   ok=run["ok"] and on_target == self.args.nodes)
        print(f"ansible: {run['seconds']} s, exit {run['exit_code']}, fence on the target on {on_target} DEAs",
              flush=True)
        self.record(run)

    def execute(self) -> dict:
        import django
        from sandbox import cluster
        args = self.args
        self.sandbox = cluster.up(self.workdir / "sandbox", dea_count=args.nodes, docker=True, kato_version="3.0",
                                  base_address=args.base_address, ssh_port=args.ssh_port,
                                  client_key=self.workdir / "client" / "id_ed25519")
        django.setup()
        from bench.rollout_bench import fleet
        from django.conf import settings
        settings.SSH_PRIVATE_KEY_PATH = Path(self.sandbox["client_key"])
        # Only this process: the sandbox's daemons are its children and go to their own parts.
        self.cpu.place("controller", os.getpid(), with_children=False)
        self.cpu.place_sandbox(self.sandbox)
        self.cpu.place("redis", self.redis_pid)
        self.cluster, self.user = fleet.prepare(self.workdir / "sandbox")
        self.version = fleet.push_version(self.sandbox, self.cluster, f"v{int(time.time())}")
        fleet.warm(self.sandbox, self.version)  # no timed run pays the engines' first pull over the base
        ansible_side.write_project(self.sandbox, self.workdir / "ansible", forks=args.workers)
        self.summary = summary = {"nodes": args.nodes, "workers": args.workers, "max_in_flight": int(args.max_in_flight),
                   "health_wait": args.health_wait, "machine": machine(), "smoke": args.smoke,
                   "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "runs": self.runs,
                   "ansible_version": _ansible_version(), "cpu_by_part": self.cpu.describe()}
        main = dict(workers=args.workers, max_in_flight=args.max_in_flight, health_wait=args.health_wait)
        if args.smoke:
            summary["ansible_syntax_check"] = ansible_side.syntax_check(self.workdir / "ansible")
            self.ours("main", **main)
        else:
            summary["baseline"] = plain_ssh_baseline(self.sandbox, self.version)
            for _ in range(args.reps):
                self.ours("main", **main)
                self.ansible()
            if args.profile:
                raw = self.workdir / "profile.txt"
                self.ours("profile", **main, profile=raw)
                summary["profile"] = profiling.summarize(raw)
                shutil.copy(raw, args.out_dir / "rollout_profile.txt")
            extras = set(filter(None, args.extras.split(",")))
            if "health_wait_5" in extras:
                self.ours("health_wait_5", workers=args.workers, max_in_flight=args.max_in_flight, health_wait=5)
            if "workers" in extras:
                for count in map(int, args.worker_counts.split(",")):
                    self.ours("workers", workers=count, max_in_flight="20", health_wait=args.health_wait)
        summary["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        summary["load_average_at_end"] = os.getloadavg()
        return summary

    def close(self) -> None:
        from sandbox import cluster
        services.stop(self.pool)
        try:
            cluster.down(self.workdir / "sandbox", purge=True)
        except Exception as error:  # noqa: BLE001 - a failed teardown is reported, the results stand
            print(f"sandbox down: {error}", file=sys.stderr)
        self.cpu.close()


def _ansible_version() -> str:
    playbook = ansible_side.ansible_playbook()
    if not playbook:
        return ""
    out = subprocess.run([playbook, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    return out.splitlines()[0] if out else ""


def main(argv=None) -> dict:
    args = parse_args(argv)
    ensure_requirements(not args.no_install)
    # Short: the sandbox's socket paths derive from it.
    workdir = Path(tempfile.mkdtemp(prefix="sbx-bench-"))
    redis_url, redis_process = services.start_redis(workdir)
    os.environ.update(STACKATO_DASH_VAR_DIR=str(workdir / "var"), DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
                      REDIS_URL=redis_url, SSH_PRIVATE_KEY_PATH=str(workdir / "client" / "id_ed25519"),
                      ARTIFACTS_DIR=str(workdir / "artifacts"), DJANGO_SETTINGS_MODULE="stackato_dash.settings",
                      INSECURE_REGISTRIES="127.0.0.0/8")  # the sandbox's registry speaks plain HTTP on loopback
    args.out_dir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, workdir, redis_process.pid)
    try:
        summary = bench.execute()
    finally:
        bench.close()
        services.stop(redis_process)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report.write(summary, args.out_dir)
    print((args.out_dir / "rollout_vs_ansible.md").read_text())
    return summary


if __name__ == "__main__":
    main()
