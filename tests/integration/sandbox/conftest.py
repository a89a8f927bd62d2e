"""Fixtures for the node-side integration tests: real redis-server,
real supervisord + fence per DEA, optionally a real dockerd.

Everything binds 127.0.0.1 (redis) or unix sockets under a short /tmp
directory (supervisor, docker: a socket path must stay under 108 bytes);
the node addresses 127.0.0.11.. appear in sandbox.json, and only each
DEA's supervisord listens on one, on a free port rather than 9001. Every process started is stopped by pid.
"""
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from sandbox.nodeside import cluster_file, config_store, supervisor_conf
from support.waiting import wait_until

PROJECT = Path(__file__).resolve().parents[3]

REDIS_SERVER = "/usr/bin/redis-server"
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
BASE_IMAGE = config_store.BASE_IMAGE
OTHER_IMAGE = "exampleco/newimg:1.0.0"  # present in the test engine, besides the base


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_pid(proc, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    # Every sandbox needs it: a missing one is a broken install, not a reason to skip.
    assert os.access(REDIS_SERVER, os.X_OK), f"{REDIS_SERVER} is not installed (scripts/install.sh installs it)"
    import redis

    d = tmp_path_factory.mktemp("config_redis")
    port = _free_port()
    # With a password, as the sandbox's config_redis (sandbox/config_redis.py).
    password = secrets.token_urlsafe(18)
    (d / "password").write_text(password)
    proc = subprocess.Popen(
        [REDIS_SERVER, "-", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(d),
         "--save", "", "--appendonly", "no", "--daemonize", "no",
         "--logfile", str(d / "redis.log")],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write(f'requirepass "{password}"\n'.encode())
    proc.stdin.close()
    client = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True)
    try:
        wait_until(lambda: _pings(client), "redis-server", 10)
        yield {"host": "127.0.0.1", "port": port, "password_file": str(d / "password")}
    finally:
        client.close()
        _stop_pid(proc)


def _pings(client):
    try:
        return client.ping()
    except Exception:
        return False


def _tiny_rootfs():
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        body = b"sandbox base image\n"
        info = tarfile.TarInfo("etc/sandbox-image")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return data.getvalue()


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory):
    """One engine shared by the test DEAs, holding BASE_IMAGE and OTHER_IMAGE."""
    assert os.geteuid() == 0 and os.access(DOCKERD, os.X_OK), \
        "dockerd needs root and Debian's docker.io, as every sandbox does (scripts/install.sh)"
    import docker

    short = Path(f"/tmp/sbxd-{secrets.token_hex(3)}")
    short.mkdir()
    data = tmp_path_factory.mktemp("docker-data")
    sock = f"unix://{short}/d.sock"
    log = open(data / "dockerd.log", "wb")
    proc = subprocess.Popen(
        [DOCKERD, "--data-root", str(data / "root"), "--exec-root", str(short / "x"),
         "--pidfile", str(short / "d.pid"), "-H", sock, "--bridge=none",
         "--iptables=false", "--ip-forward=false", "--ip-masq=false"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        client = wait_until(lambda: _docker_client(docker, sock), "dockerd", 30, 0.3)
        repo, tag = BASE_IMAGE.rsplit(":", 1)
        client.api.import_image_from_data(_tiny_rootfs(), repository=repo, tag=tag)
        other_repo, other_tag = OTHER_IMAGE.rsplit(":", 1)
        client.images.get(BASE_IMAGE).tag(other_repo, other_tag)
        client.close()
        yield sock
    finally:
        _stop_pid(proc, 30)
        log.close()
        shutil.rmtree(short, ignore_errors=True)


def _docker_client(docker, sock):
    try:
        client = docker.DockerClient(base_url=sock, timeout=5)
        client.ping()
        return client
    except Exception:
        return None


class NodesideCluster:
    """A cluster file + seeded config + running supervisords, and helpers."""

    def __init__(self, cluster, redis_info):
        self.cluster = cluster
        self.redis_info = redis_info

    def node(self, name):
        return cluster_file.node_by_name(self.cluster, name)

    def redis(self):
        return config_store.connect(self.cluster)

    def kato(self, node, *args, timeout=60):
        env = dict(os.environ, SANDBOX_STATE=self.cluster["state_dir"], SANDBOX_NODE=node,
                   PYTHONPATH=str(PROJECT))
        return subprocess.run([sys.executable, "-m", "sandbox.nodeside.kato", *args],
                              env=env, capture_output=True, text=True, timeout=timeout)

    def kato_popen(self, node, *args):
        env = dict(os.environ, SANDBOX_STATE=self.cluster["state_dir"], SANDBOX_NODE=node,
                   PYTHONPATH=str(PROJECT))
        return subprocess.Popen([sys.executable, "-m", "sandbox.nodeside.kato", *args],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def fence_info(self, name):
        node = self.node(name)
        return supervisor_conf.rpc(node["supervisor_socket"]).supervisor.getProcessInfo("fence")

    def wait_fence(self, name, state, timeout=15.0, other_than_pid=None):
        def ready():
            info = self.fence_info(name)
            if info["statename"] == state and (other_than_pid is None
                                               or info["pid"] != other_than_pid):
                return info
            return None
        return wait_until(ready, f"fence on {name} to be {state}", timeout)

    def fence_json(self, name):
        from sandbox.nodeside.jsonfile import read_json

        return read_json(Path(self.node(name)["dir"]) / "fence.json")


@pytest.fixture
def nodeside_cluster(redis_server, tmp_path, request):
    """nodeside_cluster(version="3.0", docker=False, deas=2) -> NodesideCluster (stopped at teardown)."""
    started = []
    sock_dirs = []

    def make(version="3.0", docker=False, deas=2, start=True):
        docker_sock = request.getfixturevalue("dockerd") if docker else None
        ident = secrets.token_hex(3)
        state = tmp_path / f"state-{ident}"
        sock_dir = Path(f"/tmp/sbxt-{ident}")
        sock_dir.mkdir()
        sock_dirs.append(sock_dir)
        nodes = [{"name": "core", "address": "127.0.0.11", "ssh_port": 2222,
                  "ssh_user": "root", "roles": ["primary", "controller", "router"],
                  "dir": str(state / "nodes" / "core"), "docker_host": docker_sock,
                  "supervisor_socket": None}]
        for i in range(1, deas + 1):
            name = f"dea{i}"
            nodes.append({"name": name, "address": f"127.0.0.{11 + i}", "ssh_port": 2222,
                          "ssh_user": "root", "roles": ["dea"],
                          "dir": str(state / "nodes" / name), "docker_host": docker_sock,
                          "supervisor_socket": str(sock_dir / name / "supervisor.sock"),
                          # not 9001: several throw-away clusters share these addresses
                          "supervisor_port": _free_port()})
        for node in nodes:
            Path(node["dir"]).mkdir(parents=True)
        cluster = {"id": ident, "state_dir": str(state), "socket_dir": str(sock_dir),
                   "kato_version": version, "python": sys.executable,
                   "project_dir": str(PROJECT), "config_redis": dict(redis_server),
                   "registry": {"host": "127.0.0.11", "port": 5000},
                   "docker": bool(docker), "nodes": nodes}
        cluster_file.save(cluster)
        client = config_store.connect(cluster)
        client.flushall()
        config_store.seed(client, cluster)
        client.close()
        sandbox = NodesideCluster(cluster, redis_server)
        if start:
            for node in nodes:
                if node["supervisor_socket"]:
                    supervisor_conf.start(cluster, node)
                    started.append(node)
            for node in nodes:
                if node["supervisor_socket"]:
                    sandbox.wait_fence(node["name"], "RUNNING")
        return sandbox

    yield make
    for node in started:
        supervisor_conf.stop(node, timeout=5)
    for d in sock_dirs:
        shutil.rmtree(d, ignore_errors=True)
