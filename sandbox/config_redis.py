"""config_redis: the Redis on the Core node that holds kato's config."""
from pathlib import Path

import redis

from sandbox import procs
from sandbox.nodeside import config_store

REDIS_SERVER = "/usr/bin/redis-server"


def _paths(cluster: dict) -> dict:
    d = Path(cluster["state_dir"]) / "config_redis"
    return {"dir": d, "pidfile": d / "redis.pid", "log": d / "redis.log"}


def client(cluster: dict) -> redis.Redis:
    return redis.Redis(host=cluster["config_redis"]["host"], port=cluster["config_redis"]["port"],
                       socket_timeout=5, decode_responses=True)


def running(cluster: dict) -> int | None:
    return procs.alive(_paths(cluster)["pidfile"], REDIS_SERVER)


def start(cluster: dict) -> None:
    if not running(cluster):
        p = _paths(cluster)
        p["dir"].mkdir(parents=True, exist_ok=True)
        host, port = cluster["config_redis"]["host"], cluster["config_redis"]["port"]
        procs.require_port_free(host, port, "config_redis")
        # Append-only file: the cluster config survives `sandbox down` / `up`.
        argv = [REDIS_SERVER, "--bind", host, "--port", str(port), "--dir", str(p["dir"]),
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
