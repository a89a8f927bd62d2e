"""`kato process list|restart` and `kato status`.

Each role runs a fixed set of processes. Only fence is real (a program of
the node's supervisord); the others are reported RUNNING and "restart"
instantly, because nothing in the product depends on them beyond their
presence in the list.

Output: only what real kato is known to print, each process's name and
state (`fence                RUNNING`, one per line; `{"fence": "RUNNING"}`
for -j). fence's pid and start time are for supervisord's XML-RPC on
<node address>:9001, as on a real DEA; its image is nowhere but fence.json,
which the emulator keeps for the sandbox's own status and for the tests.
"""
import time

from . import faults, fence_status

ROLE_PROCESSES = {
    "primary": ["nats_server", "config_redis", "logyard", "systail", "stackato_rest"],
    "controller": ["cloud_controller_ng", "health_manager", "stager", "cc_nginx"],
    "router": ["router"],
    "dea": ["dea_ng", "dir_server", "fence", "apptail"],
}
SUPERVISED = {"fence"}

# supervisorctl's wording for supervisor's XML-RPC fault codes
_FAULT_TEXT = {10: "no such process", 30: "failed", 40: "abnormal termination",
               50: "spawn error", 60: "already started", 70: "not running"}
_NOT_RUNNING = 70
SETTLE_SECONDS = 10.0


class ProcessError(Exception):
    """A process command failed; str() is the line for stderr."""


class NodeUnreachable(ProcessError):
    def __init__(self, address):
        super().__init__(f"Error: node {address} unreachable")


def process_names(roles):
    names = []
    for role in roles:
        for name in ROLE_PROCESSES.get(role, []):
            if name not in names:
                names.append(name)
    return names


def check_reachable(node):
    if faults.read(node["dir"])["down"]:
        raise NodeUnreachable(node["address"])


def node_processes(cluster, node):
    """Status dicts of every process of the node's roles, in role order."""
    out = []
    for name in process_names(node["roles"]):
        if name in SUPERVISED:
            out.append(fence_status.read(cluster, node))
        else:
            out.append({"name": name, "state": "RUNNING", "pid": None, "image": None,
                        "started": None})
    return out


def format_process(status):
    return f"{status['name']:<20} {status['state']}"


def as_json(statuses):
    """-j: process name to state, nothing more."""
    return {status["name"]: status["state"] for status in statuses}


def ready(cluster, node, name):
    """`kato process ready NAME`: READY when it runs, NOT READY otherwise."""
    for status in node_processes(cluster, node):
        if status["name"] == name:
            return "READY" if status["state"] == "RUNNING" else "NOT READY"
    raise ProcessError(f"{name}: ERROR (no such process)")


def restart(node, name, emit):
    """Restart one process, calling emit(line) as each step ends.

    Raises ProcessError with a `<name>: ERROR (...)` line when it fails.
    """
    if name not in process_names(node["roles"]):
        raise ProcessError(f"{name}: ERROR (no such process)")
    if name not in SUPERVISED:
        emit(f"{name}: stopped")
        emit(f"{name}: started")
        return
    import xmlrpc.client

    from .supervisor_conf import rpc

    server = rpc(node["supervisor_socket"])
    try:
        # wait=True: returns only when fence has exited, however long the
        # restart_delay / hang knobs keep it in STOPPING
        server.supervisor.stopProcess(name, True)
        emit(f"{name}: stopped")
    except xmlrpc.client.Fault as fault:
        if fault.faultCode != _NOT_RUNNING:  # a FATAL or STOPPED fence just starts
            raise ProcessError(f"{name}: ERROR ({_fault_text(fault)})") from None
    except OSError as exc:
        raise ProcessError(f"{name}: ERROR (supervisord not answering: {exc})") from None
    try:
        # wait=True: returns when fence is RUNNING (startsecs) or failed
        server.supervisor.startProcess(name, True)
        emit(f"{name}: started")
    except xmlrpc.client.Fault as fault:
        _settle(server, name)
        raise ProcessError(f"{name}: ERROR ({_fault_text(fault)})") from None
    except OSError as exc:
        raise ProcessError(f"{name}: ERROR (supervisord not answering: {exc})") from None


def _settle(server, name, timeout=SETTLE_SECONDS):
    """Wait for a failed start to reach its final state.

    supervisord answers the failed startProcess while the program is still
    BACKOFF and moves it to FATAL on its next tick; callers check the state
    right after kato returns, so kato returns once it is FATAL (or anything
    but STARTING/BACKOFF).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if server.supervisor.getProcessInfo(name)["statename"] not in ("STARTING", "BACKOFF"):
                return
        except OSError:  # the ERROR line is still the answer; the state is for `list`
            return
        time.sleep(0.05)


def _fault_text(fault):
    return _FAULT_TEXT.get(fault.faultCode, fault.faultString)
