"""config_redis: the Redis on the Core node that holds kato's config."""
import os
from pathlib import Path

import redis

from sandbox import procs
from sandbox.nodeside import config_store
from stackato_dash.secret_key import load_or_create_redis_password

REDIS_SERVER = "/usr/bin/redis-server"


def _paths(cluster: dict) -> dict:
    d = Path(cluster["state_dir"]) / "config_redis"
    return {"dir": d, "pidfile": d / "redis.pid", "log": d / "redis.log", "conf": d / "redis.conf"}


def client(cluster: dict) -> redis.Redis:
    where = cluster["config_redis"]
    return redis.Redis(host=where["host"], port=where["port"], password=config_store.password(where),
                       socket_timeout=5, decode_responses=True)


def _write_config(cluster: dict, conf: Path) -> None:
    """requirepass in a 0600 file, not on redis-server's command line (ps
    shows that to every local user). The password is made once per sandbox."""
    password = load_or_create_redis_password(Path(cluster["config_redis"]["password_file"]))
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f'requirepass "{password}"\n')


def running(cluster: dict) -> int | None:
    return procs.alive(_paths(cluster)["pidfile"], REDIS_SERVER)


def start(cluster: dict) -> None:
    if not running(cluster):
        p = _paths(cluster)
        p["dir"].mkdir(parents=True, exist_ok=True)
        host, port = cluster["config_redis"]["host"], cluster["config_redis"]["port"]
        procs.require_port_free(host, port, "config_redis")
        # Unlike Stackato's, it requires a password: this is a Redis the project
        # starts, on a machine where other local users may reach loopback.
        _write_config(cluster, p["conf"])
        # Append-only file: the cluster config survives `sandbox down` / `up`.
        argv = [REDIS_SERVER, str(p["conf"]), "--bind", host, "--port", str(port), "--dir", str(p["dir"]),
                "--appendonly", "yes", "--save", "", "--protected-mode", "no", "--daemonize", "no"]
        procs.spawn(argv, p["pidfile"], p["log"])

        def answers() -> bool:
            try:
                return client(cluster).ping()
            except redis.RedisError:
                return False
        procs.wait_until(answers, 15, f"config_redis on {host}:{port}", p["log"])
    conn = client(cluster)
    if not conn.exists("fence"):
        config_store.seed(conn, cluster)


def stop(cluster: dict) -> None:
    procs.stop(_paths(cluster)["pidfile"], REDIS_SERVER)
