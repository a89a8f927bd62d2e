"""The bench's own services: a Redis with a password, the sandbox cluster,
and an RQ worker pool, each started for one run and stopped after it."""
import os
import secrets
import signal
import socket
import subprocess  # noqa: S404  starts redis-server and manage.py, argv lists, no shell
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(workdir: Path) -> tuple[str, subprocess.Popen]:
    """redis-server on a free loopback port, its password in REDIS_URL only."""
    port, password = free_port(), secrets.token_hex(16)
    # The password in a 0600 file, not on the command line (ps shows that to everyone).
    config = workdir / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(f"bind 127.0.0.1\nport {port}\nsave \"\"\nappendonly no\ndir {workdir}\n"
                      f"requirepass {password}\n")
    process = subprocess.Popen(["redis-server", str(config)],  # noqa: S603 S607  Debian's redis-server on PATH
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    return f"redis://:{password}@127.0.0.1:{port}/0", process


def stop(process: subprocess.Popen | None, timeout: float = 20) -> None:
    """SIGTERM the process group it leads (a pool's workers and their work horses), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def start_workers(count: int, log: Path) -> subprocess.Popen:
    """`rqworker-pool --num-workers N`, as production runs it (settings.RQ's worker class)."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603  our own manage.py
            [sys.executable, "manage.py", "rqworker-pool", "--num-workers", str(count), "default"],
            cwd=REPO, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_workers(count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    from rq import Worker

    from stackato_dash import queueing
    deadline = time.monotonic() + timeout
    while len(Worker.all(queue=queueing.get_queue())) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker pool did not register {count} workers")
        time.sleep(0.2)


def clear_dead_workers() -> None:
    """A stopped pool's workers leave their keys for a while: forget them, so
    the next pool's count is its own."""
    from rq import Worker

    from stackato_dash import queueing
    for worker in Worker.all(queue=queueing.get_queue()):
        worker.register_death()
