"""Drop a sandbox node's SSH connections as a network cut would: its sshd
stops (the `down` knob) and the sshd processes carrying open connections
are killed, so the console's connection ends mid-command. The commands
those connections ran (kato) are not killed: they carry on, then find
their output gone, as on a real node."""
import os
import signal
from pathlib import Path

from sandbox import knobs


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(child) for child in children]
    return found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return ""


def _sshd_descendants(pid: int) -> list[int]:
    """sshd's per-connection processes (sshd, sshd-session), not the commands they run."""
    found = []
    for child in _children(pid):
        if _name(child).startswith("sshd"):
            found += [child, *_sshd_descendants(child)]
    return found


def drop_connections(sandbox: dict, node: dict) -> int:
    """Returns how many connection processes were killed."""
    master = int((Path(node["dir"]) / "sshd.pid").read_text())
    connections = _sshd_descendants(master)
    knobs.apply(Path(sandbox["state_dir"]), node["name"], "down")
    for pid in connections:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(connections)
