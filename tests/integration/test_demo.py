"""`make demo` the way a user runs it: start scripts/demo.sh, wait for the
URL and credentials it prints, log in to the admin over real HTTP, run it a
second time (it must reuse everything), then stop it with
scripts/demo-stop.sh and check nothing it started is left.

The demo gets its own var dir, web port, Redis port and sandbox addresses
(127.0.3.11...), so it cannot clash with the test sandbox (127.0.2.11...) or
a developer's own demo (127.0.0.11..., ports 8000/6379).
"""
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]
DEMO_SANDBOX_ADDRESS = "127.0.3.11"
SANDBOX_SSH_PORT = 2222
# Installs are already done when the suite runs; this covers a cold sandbox
# (one dockerd and a base image import per node) on a loaded 2-core machine.
STARTUP_TIMEOUT = 600


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


@pytest.fixture
def demos():
    """Every demo.sh a test starts; demo_env's teardown kills those still running."""
    return []


@pytest.fixture
def demo_env(tmp_path, demos):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # the demo's own SQLite in its var dir, as a user gets
    var_dir = tmp_path / "var"
    env.update(
        STACKATO_DASH_VAR_DIR=str(var_dir),
        SANDBOX_DIR=str(var_dir / "sandbox"),
        SANDBOX_BASE_ADDRESS=DEMO_SANDBOX_ADDRESS,
        SANDBOX_SSH_PORT=str(SANDBOX_SSH_PORT),
        DEMO_WEB_PORT=str(free_port()),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        DEMO_WORKERS="2",
    )
    yield env
    # Whatever happened, leave nothing running: first the scripts, so none
    # starts a service after this, then what they started.
    for demo in demos:
        demo.kill()
    stop_demo(env)
    # Last resort when demo-stop itself failed: pidfiles under tmp_path would
    # be gone by the next run, and the daemons would hold the demo addresses.
    kill_processes_mentioning(str(var_dir), f"{DEMO_SANDBOX_ADDRESS}:")


def kill_processes_mentioning(*needles: str) -> None:
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


def stop_demo(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "scripts" / "demo-stop.sh")], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)


def admin_login(url: str, username: str, password: str):
    """Log in through the admin's login form; return the logged-in opener and
    the admin index page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login_url = urllib.parse.urljoin(url, "login/?next=/admin/")
    page = opener.open(login_url, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, f"no CSRF token on the login page:\n{page[:2000]}"
    form = urllib.parse.urlencode({
        "csrfmiddlewaretoken": token.group(1), "username": username,
        "password": password, "next": "/admin/",
    }).encode()
    request = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})
    with opener.open(request, timeout=30) as response:
        assert urllib.parse.urlsplit(response.url).path == "/admin/", f"login did not reach /admin/: {response.url}"
        return opener, response.read().decode()


def wait_for_fleet_in_sync(opener, url: str, nodes: int, timeout: float = 60) -> str:
    """The demo registered its sandbox and queued a facts refresh: its worker
    pool brings every node to "in sync" on the Node changelist."""
    deadline = time.monotonic() + timeout
    while True:
        page = opener.open(urllib.parse.urljoin(url, "nodes/node/?drift=in_sync"), timeout=30).read().decode()
        if f"{nodes} nodes" in page or time.monotonic() > deadline:
            return page
        time.sleep(1)


def read_pids(run_dir: Path) -> dict:
    return {f.stem: int(f.read_text()) for f in run_dir.glob("*.pid")}


def test_demo_starts_logs_in_and_stops(demo_env, demos):
    var_dir = Path(demo_env["STACKATO_DASH_VAR_DIR"])
    web_port = int(demo_env["DEMO_WEB_PORT"])
    redis_port = int(urllib.parse.urlsplit(demo_env["REDIS_URL"]).port)

    first = Demo(demo_env)
    demos.append(first)
    creds = first.credentials()
    assert creds["URL"] == f"http://127.0.0.1:{web_port}/admin/"
    assert creds["Username"] == "admin"
    password_file = var_dir / "admin_password"
    assert password_file.read_text().strip() == creds["Password"]
    assert password_file.stat().st_mode & 0o777 == 0o600

    opener, index = admin_login(creds["URL"], creds["Username"], creds["Password"])
    assert re.search(r'id="user-tools">\s*Welcome,\s*<strong>admin</strong>', index), index[:3000]
    assert 'href="/admin/django_rq/dashboard/"' in index, "no Django-RQ queues link on the admin index"

    pids = read_pids(var_dir / "run")
    assert {"web", "rqworker-pool", "redis"} <= set(pids), pids
    assert all(alive(pid) for pid in pids.values()), pids
    assert listening(DEMO_SANDBOX_ADDRESS, SANDBOX_SSH_PORT), "the demo's sandbox Core sshd is not listening"
    fleet = wait_for_fleet_in_sync(opener, creds["URL"], nodes=4)  # Core + 3 DEAs
    assert "4 nodes" in fleet, fleet[-3000:]
    assert DEMO_SANDBOX_ADDRESS in fleet

    # A second run reuses the running services, the database and the user.
    second = Demo(demo_env)
    demos.append(second)
    assert second.credentials() == creds
    assert read_pids(var_dir / "run") == pids
    assert "already running" in second.output

    stopped = stop_demo(demo_env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    # Both foreground demo.sh runs notice the stop and end cleanly.
    assert first.wait(60) == 0, first.output
    assert second.wait(60) == 0, second.output

    deadline = time.monotonic() + 10  # init may take a moment to reap
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [name for name, pid in pids.items() if alive(pid)], "processes left running after demo-stop"
    assert not list((var_dir / "run").glob("*.pid"))
    assert not listening("127.0.0.1", web_port), "something still listens on the web port"
    assert not listening("127.0.0.1", redis_port), "something still listens on the Redis port"
    assert not listening(DEMO_SANDBOX_ADDRESS, SANDBOX_SSH_PORT), "the demo's sandbox is still up"
