"""A DEA node's supervisord: its config, start/stop, and an XML-RPC client.

supervisord (PyPI, pinned) runs fence so that fence has real supervisor
states (STARTING, RUNNING, STOPPING, FATAL) and a new pid on each restart.
The orchestrator calls start/stop/running (write_conf, render for a look);
kato and fence_status use rpc() on the unix socket; the console uses the
same XML-RPC on <node address>:9001 (inet_http_server), as on Stackato.

supervisord daemonizes itself, so start() returns the daemon's pid from its
pidfile and stop() works from any later process (`sandbox down`).
"""
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

# fence sleeps restart_delay and waits while `hang` is on after SIGTERM:
# supervisord must not SIGKILL it before the knob is turned off
STOPWAITSECS = 3600
# A fence start that fails within startsecs is FATAL; a later exit is
# restarted. Not 1: supervisord's main loop sleeps up to 1 s in poll() and
# runs its state transition before reaping, so with startsecs=1 a start
# that fails at once is sometimes declared RUNNING first and then restarted
# (seen 2 times in 8 with a bare `python -c "sys.exit(1)"`). With 2, a fence
# that fails within ~1 s (it takes ~0.01-0.1 s) always ends FATAL.
STARTSECS = 2
# Stackato lists port 9001 for supervisord on every node: its XML-RPC (pid,
# state, start time of fence) is served on the node's own address there,
# which the console reaches through the node's SSH connection.
SUPERVISOR_PORT = 9001


def inet_port(node):
    """9001 (sandbox.json says so for every DEA); the node-side tests give
    each of their throw-away clusters a free port instead."""
    return int(node.get("supervisor_port") or SUPERVISOR_PORT)


def conf_path(node):
    return Path(node["dir"]) / "supervisord.conf"


def pidfile(node):
    return Path(node["dir"]) / "supervisord.pid"


def _esc(value):
    # supervisord expands %(name)s in option values: a literal % is %%
    return str(value).replace("%", "%%")


def _quote(value):
    # environment= values are parsed like shell words inside double quotes
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def fence_environment(cluster, node):
    env = {
        "SANDBOX_STATE": cluster["state_dir"],
        "SANDBOX_NODE": node["name"],
        "PYTHONPATH": cluster["project_dir"],
    }
    if node.get("docker_host"):
        env["DOCKER_HOST"] = node["docker_host"]
    return env


def render(cluster, node):
    """supervisord.conf text for one node (it must have a supervisor_socket)."""
    if not node.get("supervisor_socket"):
        raise ValueError(f"node {node['name']} has no supervisor_socket")
    d = Path(node["dir"])
    command = " ".join(shlex.quote(a) for a in (cluster["python"], "-m", "sandbox.nodeside.fence"))
    env = ",".join(f'{k}="{_quote(v)}"' for k, v in fence_environment(cluster, node).items())
    return f"""\
; written by sandbox.nodeside.supervisor_conf for node {_esc(node['name'])}
[unix_http_server]
file={_esc(node['supervisor_socket'])}
chmod=0700

[inet_http_server]
; the node's own (loopback) address only, as a DEA's supervisord on :9001
port={_esc(node['address'])}:{inet_port(node)}

[supervisord]
pidfile={_esc(d / 'supervisord.pid')}
logfile={_esc(d / 'supervisord.log')}
logfile_maxbytes=1MB
logfile_backups=1
childlogdir={_esc(d)}
directory={_esc(d)}
identifier=sandbox-{_esc(node['name'])}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{_esc(node['supervisor_socket'])}

[program:fence]
command={_esc(command)}
directory={_esc(d)}
environment={_esc(env)}
autostart=true
; startretries=0: a fence that exits within startsecs (missing image,
; fail_restarts knob) goes straight to FATAL, as on a real DEA;
; startsecs is 2, not 1: see STARTSECS in supervisor_conf.py
startsecs={STARTSECS}
startretries=0
; true, not unexpected: a 3.0.1+ fence exits 0 on a config change and
; relies on being started again
autorestart=true
stopsignal=TERM
stopwaitsecs={STOPWAITSECS}
stdout_logfile={_esc(d / 'fence.log')}
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=1
redirect_stderr=true
"""


def write_conf(cluster, node):
    path = conf_path(node)
    path.parent.mkdir(parents=True, exist_ok=True)
    Path(node["supervisor_socket"]).parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(cluster, node), encoding="utf-8")
    return path


def rpc(socket_path):
    """An XML-RPC proxy to the supervisord listening on that unix socket."""
    import xmlrpc.client

    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{socket_path}")
    # the host in the URL is ignored: the transport always uses the socket
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def _alive(pid):
    """True if pid runs and is not a zombie left for its parent to reap."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def running(node):
    """pid of this node's supervisord, or None (a stale pidfile counts as None)."""
    try:
        pid = int(pidfile(node).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    # a recycled pid belongs to something else: only trust our own command line
    if b"supervisord" not in cmdline or str(conf_path(node)).encode() not in cmdline:
        return None
    return pid if _alive(pid) else None


def wait_ready(node, timeout=15.0):
    """Wait until supervisord answers on its socket and reports RUNNING."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if rpc(node["supervisor_socket"]).supervisor.getState()["statename"] == "RUNNING":
                return
        except Exception as exc:  # socket missing, refused, half-started daemon
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"supervisord of {node['name']} did not answer within {timeout}s ({last})")


def start(cluster, node, timeout=15.0):
    """Write the conf, start supervisord (which starts fence); returns its pid.

    A supervisord already running for this node is left alone.
    """
    pid = running(node)
    if pid:
        return pid
    conf = write_conf(cluster, node)
    out = Path(node["dir"]) / "supervisord.out"
    with open(out, "ab") as log:
        # the foreground parent exits right after forking the daemon
        subprocess.run([cluster["python"], "-m", "supervisor.supervisord", "-c", str(conf)],
                       stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=True,
                       timeout=timeout, cwd=node["dir"])
    wait_ready(node, timeout)
    pid = running(node)
    if not pid:
        raise RuntimeError(f"supervisord of {node['name']} answered but has no pid (see {out})")
    return pid


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return not any(_alive(p) for p in pids)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # already gone: what we wanted
        pass


def stop(node, timeout=10.0):
    """Stop the node's supervisord and fence; True if something was running.

    SIGTERM lets supervisord stop fence politely; a fence held by the
    restart_delay or hang knob is then SIGKILLed after `timeout`, and so is
    a supervisord that still does not exit.
    """
    pid = running(node)
    if not pid:
        return False
    children = []
    try:
        info = rpc(node["supervisor_socket"]).supervisor.getProcessInfo("fence")
        children = [info["pid"]] if info.get("pid") else []
    except Exception:  # noqa: S110  a daemon that cannot answer is still signalled just below
        pass
    _signal(pid, signal.SIGTERM)
    if not _wait_gone([pid], timeout):
        for victim in children + [pid]:
            _signal(victim, signal.SIGKILL)
        _wait_gone(children + [pid], 5.0)
    pidfile(node).unlink(missing_ok=True)
    return True
