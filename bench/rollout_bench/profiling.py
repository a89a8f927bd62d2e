"""py-spy on the worker pool while one rollout runs: every worker and every
work horse it forks (--subprocesses), idle frames included (--idle), since
a rollout step mostly waits (network, sleeps, locks) rather than computes."""
import collections
import re
import shutil
import subprocess  # noqa: S404  runs py-spy, argv list
import sys
from pathlib import Path

# What a sample is spent on, by the first frame (leaf to root) that matches.
CATEGORIES = (
    ("SSH connect (TCP, key exchange, auth)", re.compile(r"\b(?:_handshake|Session\.connect|Session\._authenticate|scan_host_key) \(.*nodes/ssh\.py")),
    ("supervisord XML-RPC (channel + HTTP)", re.compile(r"\b_call \(.*nodes/supervisor\.py")),
    # the leaf frame only: a sample whose innermost Python frame is fence_check's is its time.sleep
    ("poll sleeps (fence_check POLL)", re.compile(r"^\(\w+ \(.*fence_check\.py:\d+\)$")),
    ("kato process restart fence (the restart itself)", re.compile(r"\bprocess_restart \(")),
    ("verification: kato config get", re.compile(r"\bconfig_get \(.*nodes/kato\.py")),
    ("verification: kato process ready", re.compile(r"\bprocess_ready \(.*nodes/kato\.py")),
    ("docker commands (pull, tag, image inspect, smoke run)", re.compile(r"\brun \(.*nodes/ssh\.py")),
    # the step's main thread while the config, engine and ready reads run in their threads
    ("verification reads (waited on, run side by side)", re.compile(r"\b(?:result|shutdown) \(.*concurrent/futures/")),
    ("rollout engine advance() (row lock, decisions)", re.compile(r"\badvance \(.*images/rollouts/engine\.py")),
    ("audit rows", re.compile(r"\(.*images/rollouts/audit\.py")),
    ("job lifecycle rows (job_runs)", re.compile(r"\b(?:_start|_end|_with_retries|record_queued) \(.*job_runs/")),
    ("database (other)", re.compile(r"\(django/db/")),
    ("RQ job bookkeeping in the horse", re.compile(r"\(rq/")),
)
_FRAME = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")


def py_spy() -> str:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else (shutil.which("py-spy") or "")


def start(pid: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen([py_spy(), "record", "--pid", str(pid), "--subprocesses", "--idle", "--rate", "50",  # noqa: S603
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize(raw: Path) -> dict:
    """Where the work horses' job time goes: samples of a horse's main
    thread inside RQ's perform_job, by category and by the three innermost
    frames of the project. Left out and counted apart: workers waiting for
    a job or for their horse, paramiko's transport threads, and the pool."""
    by_category, by_chain, apart = collections.Counter(), collections.Counter(), collections.Counter()
    for line in raw.read_text().splitlines():
        match = _FRAME.match(line.strip())
        if not match:
            continue
        frames = [f.strip() for f in match["stack"].split(";") if not f.startswith("process ")]
        count = int(match["count"])
        if not frames or "perform_job" not in match["stack"] or "threading.py" in frames[0]:
            kind = ("RQ: waiting for a job" if "dequeue" in match["stack"] else
                    "RQ: worker waiting on its horse" if "monitor_work_horse" in match["stack"] else
                    "threads (paramiko transport, verification) and the pool")
            apart[kind] += count
            continue
        category = next((name for name, pattern in CATEGORIES
                         for frame in (frames[-1:] if pattern.pattern.startswith("^") else frames)
                         if pattern.search(f"({frame}")), "other")
        by_category[category] += count
        mine = [f.split(" (")[0] for f in frames if re.search(r"\((?:images|nodes|job_runs|stackato_dash)/", f)]
        by_chain[" > ".join(mine[-3:]) or frames[-1]] += count
    busy = sum(by_category.values()) or 1
    return {
        "job_samples": busy,
        "by_category": {k: round(100 * v / busy, 1) for k, v in by_category.most_common()},
        "top_project_frames": {k: round(100 * v / busy, 1) for k, v in by_chain.most_common(15)},
        "not_job_time_samples": dict(apart),
    }
