"""CPU seconds by part of the bench, per timed run, from cgroup v1 cpuacct.

The sandbox runs every node on the machine's own CPUs, so a run's wall
time is mostly its total CPU divided by the CPUs; only CPU by part says
where a run's time goes, on our side and on Ansible's alike. Each part is
a cgroup under a parent unique to this bench process; its processes are
placed by the pids the sandbox and the bench know (pidfiles, Popen), each
with its descendants at that moment, and everything they start later
inherits the cgroup (an sshd listener's sessions, a dockerd's containerd
and shims, a supervisord's fence, the pool's work horses). "other" is the
machine's busy CPU (/proc/stat) minus the parts: the kernel's own work,
containers (dockerd puts those in its own cgroups) and anything else
running on the machine."""
import errno
import os
import time
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup/cpuacct")
# part -> its cgroup directory's name
PARTS = {"workers": "workers", "controller": "controller", "node sessions": "node_sessions",
         "engines": "engines", "supervisord+fence": "supervisord_fence", "registry": "registry", "redis": "redis"}
OTHER, TOTAL = "other", "total"
_TICK = os.sysconf("SC_CLK_TCK")


class CpuParts:
    """The cgroups of one bench run; `reason` says why there are none."""

    def __init__(self, mount: Path = MOUNT):
        self.root, self.home, self.reason = mount / f"stackato-dash-bench-{os.getpid()}", None, ""
        if os.geteuid() != 0:
            self.reason = "not root: cgroups cannot be made"
        elif not (mount / "cpuacct.usage").exists():
            self.reason = f"no cgroup v1 cpuacct hierarchy at {mount}"
        else:
            try:
                # Where the bench runs now: every process goes back there at the end.
                self.home = mount / _own_cgroup().lstrip("/")
                self.root.mkdir()
                for name in PARTS.values():
                    (self.root / name).mkdir()
            except OSError as error:
                self.reason = f"cannot make {self.root}: {error.strerror or error}"
                self._remove()

    @property
    def available(self) -> bool:
        return not self.reason

    def place(self, part: str, pid: int | None, *, with_children: bool = True) -> None:
        """Move pid (and, by default, every descendant it has now) into part."""
        if not self.available or pid is None:
            return
        target = self.root / PARTS[part] / "cgroup.procs"
        for each in _tree(pid) if with_children else [pid]:
            _move(each, target)

    def place_sandbox(self, sandbox: dict) -> None:
        from sandbox import config_redis, engines, registry, sshd
        from sandbox.nodeside import supervisor_conf
        for node in sandbox["nodes"]:
            self.place("node sessions", sshd.running(node))
            if node["docker_host"]:
                self.place("engines", engines.running(node))  # containerd and its shims are its children
            if node["supervisor_socket"]:
                self.place("supervisord+fence", supervisor_conf.running(node))
        self.place("registry", registry.running(sandbox))
        self.place("redis", config_redis.running(sandbox))

    def read(self) -> dict | None:
        """Nanoseconds by part, and the machine's busy CPU, now."""
        if not self.available:
            return None
        usage = {part: int((self.root / name / "cpuacct.usage").read_text()) for part, name in PARTS.items()}
        return {**usage, TOTAL: _busy_ns()}

    @staticmethod
    def between(before: dict | None, after: dict | None) -> dict | None:
        """CPU seconds by part between two reads, with other and the total."""
        if before is None or after is None:
            return None
        seconds = {part: (after[part] - before[part]) / 1e9 for part in (*PARTS, TOTAL)}
        seconds[OTHER] = seconds[TOTAL] - sum(seconds[part] for part in PARTS)
        return {part: round(value, 2) for part, value in seconds.items()}

    def describe(self) -> dict:
        return {"available": self.available, "reason": self.reason,
                "cgroup": str(self.root) if self.available else "", "parts": [*PARTS, OTHER]}

    def close(self) -> None:
        """Every process still in a part back where the bench started, and the cgroups removed."""
        if self.home is not None:
            for name in PARTS.values():
                procs = self.root / name / "cgroup.procs"
                if procs.exists():
                    for pid in procs.read_text().split():
                        _move(int(pid), self.home / "cgroup.procs")
        self._remove()

    def _remove(self) -> None:
        for directory in [*(self.root / name for name in PARTS.values()), self.root]:
            # A process that has just exited can keep its cgroup busy for a moment.
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY:
                        break
                    time.sleep(0.1)


def _own_cgroup() -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            return path
    raise OSError(errno.ENOENT, "this process is in no cpuacct cgroup")


def _move(pid: int, cgroup_procs: Path) -> None:
    try:
        cgroup_procs.write_text(str(pid))
    except ProcessLookupError:
        pass  # it ended meanwhile
    except OSError as error:
        if error.errno != errno.ESRCH:
            raise


def _tree(pid: int) -> list[int]:
    """pid and its descendants now, from every process's parent in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def _busy_ns() -> int:
    """CPU time the whole machine spent busy (user, nice, system, irq, softirq), in ns; not
    steal (a hypervisor running someone else: no process here used it, and no cgroup counts it)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) * 1_000_000_000 // _TICK
