"""`make demo` the way a user runs it, for tests: scripts/demo.sh in its own
process group with its output collected, the environment it gets (its own
var dir, web and Redis ports and sandbox addresses, so it clashes with no
test sandbox and no developer's demo; nothing else changed from what `make
demo` sets), and scripts/demo-stop.sh with a last resort behind it."""
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_SANDBOX_ADDRESS = "127.0.3.11"
SANDBOX_SSH_PORT = 2222
# Installs are already done when the suite runs; this covers a cold sandbox
# (one dockerd and a base image import per node) on a loaded 2-core machine.
STARTUP_TIMEOUT = 600
# What a fresh machine does not have: the demo must work without them.
NOT_ON_A_FRESH_MACHINE = ("DATABASE_URL", "BUILD_DOCKER_HOST", "DEMO_WORKERS", "DEMO_DEA_NODES", "DEMO_KATO_VERSION",
                          "SANDBOX_DIR", "SSH_PRIVATE_KEY_PATH",
                          "INSECURE_REGISTRIES",  # the suite's (tests/conftest.py): the demo declares its own
                          "DJANGO_ALLOW_ASYNC_UNSAFE")  # set by the browser fixture for the test process only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited, only its parent has not reaped it


def demo_env(var_dir: Path) -> dict:
    """The environment of `make demo` with only the places moved apart."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_ON_A_FRESH_MACHINE}
    env.update(
        STACKATO_DASH_VAR_DIR=str(var_dir),
        SANDBOX_BASE_ADDRESS=DEMO_SANDBOX_ADDRESS,
        SANDBOX_SSH_PORT=str(SANDBOX_SSH_PORT),
        DEMO_WEB_PORT=str(free_port()),
        # The demo's Redis requires a password (scripts/redis.sh refuses to start one without).
        REDIS_URL=f"redis://:{secrets.token_urlsafe(18)}@127.0.0.1:{free_port()}/0",
    )
    return env


class Demo:
    """One run of scripts/demo.sh, its output collected as it comes."""

    def __init__(self, env: dict):
        self.lines: list[str] = []
        # Its own process group: a failed test kills the script and whatever
        # it runs in the foreground (e.g. `sandbox up`) in one go; the
        # services it started are in sessions of their own, for demo-stop.
        self.proc = subprocess.Popen(
            ["bash", str(REPO / "scripts" / "demo.sh")], cwd=REPO, env=env, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def credentials(self) -> dict:
        """Wait for the URL/Username/Password lines the demo prints when it is up."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            found = dict(re.findall(r"^\s*(URL|Username|Password):\s+(\S+)\s*$", self.output, re.M))
            if len(found) == 3:
                return found
            if self.proc.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"demo.sh exited {self.proc.returncode} before it was up:\n{self.output}")
            time.sleep(0.5)
        pytest.fail(f"demo.sh printed no credentials in {STARTUP_TIMEOUT} s:\n{self.output}")

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


def stop_demo(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "scripts" / "demo-stop.sh")], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)


def kill_processes_mentioning(*needles: str) -> None:
    """Last resort when demo-stop itself failed: the daemons would otherwise
    hold the demo's addresses for the next run."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(needle in cmdline for needle in needles) and int(proc.name) != os.getpid():
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def read_pids(run_dir: Path) -> dict:
    return {f.stem: int(f.read_text()) for f in run_dir.glob("*.pid")}
