"""What fence is doing on a DEA: supervisord's view joined with fence.json.

Used by the orchestrator's `sandbox status` and the tests (pid, image,
start time), and by `kato process list` / `kato status`, which print only
the state, as real kato does. pid, image and start time are taken from fence.json only
when its pid is the pid supervisord reports, so a FATAL or STARTING fence
never shows the image of an earlier run.
"""
from pathlib import Path

from .jsonfile import read_json

STATE_FILE = "fence.json"  # written by fence.py at each successful start


def read(cluster, node):
    """{"name": "fence", "state", "pid", "image", "started"[, "reason"]}.

    state is supervisord's statename (STARTING, RUNNING, STOPPING, FATAL,
    ...), or UNKNOWN with a reason when supervisord does not answer. cluster
    is not needed today; callers pass it so this can grow without churn.
    """
    from .supervisor_conf import rpc

    status = {"name": "fence", "state": "UNKNOWN", "pid": None, "image": None, "started": None}
    try:
        info = rpc(node["supervisor_socket"]).supervisor.getProcessInfo("fence")
    except Exception as exc:  # supervisord down: say so rather than guess a state
        status["reason"] = f"supervisord not answering: {exc}"
        return status
    status["state"] = info["statename"]
    if info["pid"]:
        status["pid"] = info["pid"]
        started = read_json(Path(node["dir"]) / STATE_FILE, default={}) or {}
        if started.get("pid") == info["pid"]:
            status["image"] = started.get("image")
            status["started"] = started.get("started_at")
    elif info.get("spawnerr"):
        status["reason"] = info["spawnerr"]
    return status
