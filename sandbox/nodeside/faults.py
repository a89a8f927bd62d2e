"""Per-node fault knobs in `<node dir>/faults.json`.

The orchestrator's `sandbox fault` writes them; fence reads them when it
starts and stops, kato reads `down` before talking to another node.

  restart_delay  seconds fence takes to stop after SIGTERM (state STOPPING)
  fail_restarts  the next N fence starts fail (fence decrements it and exits 1)
  hang           fence does not finish stopping while this is true
  down           the node's sshd is stopped: kato -n <its address> fails
  reload_in_place  a 3.0.1+ fence takes a config change inside its running
                 process (same pid and start time), as a real fence may:
                 nothing outside it can see that reload

Writers change the file read-modify-write, and both the orchestrator and
fence do that (fence decrements fail_restarts), so writes hold an flock on
a side lock file; readers need no lock because the file is replaced
atomically.
"""
import fcntl
from contextlib import contextmanager
from pathlib import Path

from .jsonfile import read_json, write_json

FILE_NAME = "faults.json"
DEFAULTS = {"restart_delay": 0.0, "fail_restarts": 0, "hang": False, "down": False, "reload_in_place": False}


def path(node_dir):
    return Path(node_dir) / FILE_NAME


def _checked(knob, value):
    if knob not in DEFAULTS:
        raise ValueError(f"unknown fault knob {knob!r} (one of {', '.join(DEFAULTS)})")
    if knob == "restart_delay":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"restart_delay must be seconds >= 0, got {value!r}")
        return float(value)
    if knob == "fail_restarts":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"fail_restarts must be an integer >= 0, got {value!r}")
        return value
    if not isinstance(value, bool):
        raise ValueError(f"{knob} must be true or false, got {value!r}")
    return value


def read(node_dir):
    """All knobs, defaults filled in (a node without faults.json has none set)."""
    stored = read_json(path(node_dir), default={}) or {}
    knobs = dict(DEFAULTS)
    knobs.update({k: v for k, v in stored.items() if k in DEFAULTS})
    return knobs


@contextmanager
def _locked(node_dir):
    with open(Path(node_dir) / ".faults.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write(node_dir, **knobs):
    """Change the given knobs, keep the others; returns all knobs."""
    checked = {k: _checked(k, v) for k, v in knobs.items()}
    with _locked(node_dir):
        current = read(node_dir)
        current.update(checked)
        write_json(path(node_dir), current)
    return current


def reset(node_dir):
    """Clear every knob (the node is up again as far as kato is concerned)."""
    with _locked(node_dir):
        write_json(path(node_dir), dict(DEFAULTS))
    return dict(DEFAULTS)


def take_failed_start(node_dir):
    """Consume one `fail_restarts`; True when this start must fail."""
    with _locked(node_dir):
        current = read(node_dir)
        if current["fail_restarts"] <= 0:
            return False
        current["fail_restarts"] -= 1
        write_json(path(node_dir), current)
        return True
