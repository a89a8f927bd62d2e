"""Start and stop the sandbox's daemons by pid, and wait for them to answer.

Every daemon runs in the foreground under a pid we record, so `sandbox down`
stops exactly what `sandbox up` started and nothing else.
"""
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path


class SandboxError(Exception):
    """A part of the sandbox could not be started or reached; the message says which."""


def private_dir(path: Path) -> Path:
    """A directory at a fixed, guessable path under /tmp (unix socket paths
    must stay short) that only this user can use: made 0700, or, if it
    already exists, refused unless it is a real directory (not a link) owned
    by us and closed to others. Otherwise another local user could create it
    first and swap the engines' or supervisord's sockets for their own."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise SandboxError(f"{path} exists but is not a private directory of this user (owner uid {info.st_uid}, "
                           f"mode {stat.filemode(info.st_mode)}); remove it and start the sandbox again.")
    return path


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pidfile: Path, expect: str) -> int | None:
    """The pid in pidfile if that process runs and its command line contains
    `expect` (a recycled pid must not pass for our daemon)."""
    pid = read_pid(pidfile)
    if pid is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state = _proc_state(pid)
    if expect not in cmdline or state == "Z":
        return None
    return pid


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "X"


def spawn(argv: list[str], pidfile: Path, logfile: Path, env: dict | None = None) -> int:
    """Start argv detached from our terminal (so Ctrl-C on `make demo` reaches
    only the demo script, which then stops things in order)."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def stop(pidfile: Path, expect: str, timeout: float = 20.0) -> None:
    """SIGTERM, wait, then SIGKILL; removes the pidfile."""
    pid = alive(pidfile, expect)
    if pid is not None:
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            _signal(pid, signal.SIGKILL)
            while _running(pid):
                time.sleep(0.05)
    pidfile.unlink(missing_ok=True)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _running(pid: int) -> bool:
    # Our own children become zombies until reaped; reap them so they count as gone.
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    return _proc_state(pid) not in ("Z", "X")


def wait_until(check, timeout: float, what: str, logfile: Path | None = None) -> None:
    """Poll check() until it is true; on timeout raise with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = ""
    if logfile and logfile.exists():
        tail = " Last log lines: " + " | ".join(logfile.read_text(errors="replace").strip().splitlines()[-3:])
    raise SandboxError(f"{what} did not come up within {timeout:.0f}s.{tail}")


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_port_free(host: str, port: int, what: str) -> None:
    if tcp_open(host, port):
        raise SandboxError(f"{host}:{port} is already taken; {what} needs it (stop whatever listens there, or choose another address/port).")
