"""Watching fence through the node's supervisord (nodes/supervisor.py).

kato prints no pid, image or start time, so "fence runs the target image"
is made of facts a real node has (README.md, "What verified means"): the
config read back names the target; the node's engine holds the target (by
digest when pinned); fence is a process started after the config change
(supervisord's start time) with a new pid (supervisord's pid), and it stays
RUNNING with that pid for the health wait. Waits here poll supervisord's
state; none is a fixed sleep standing in for an event.
"""
import time
from datetime import timedelta

from nodes.kato import KatoError
from nodes.supervisor import ProcessInfo

FENCE_START_TIMEOUT = 60  # how long fence may take to come up after a restart or a config change
RELOAD_WAIT = 20  # 3.0.1+: how long a reload may take to show as a new fence process
POLL = 0.5
# supervisord reports start times in whole seconds: a start up to this much
# before a moment counts as "after" it.
START_SLACK = timedelta(seconds=2)
_MOVING = ("STOPPING", "STARTING", "BACKOFF")


class NotVerified(Exception):
    """fence did not do what the step needs; str() says what was seen."""


def describe(info: ProcessInfo) -> str:
    started = f", started {info.started:%H:%M:%S}" if info.started else ""
    return f"{info.state} (pid {info.pid or 'none'}{started})"


def settled(supervisor, timeout: float = FENCE_START_TIMEOUT) -> ProcessInfo:
    """fence once it is not half-way through a stop or start (a retry can
    arrive while the restart a lost worker began is still going on)."""
    deadline = time.monotonic() + timeout
    info = supervisor.process_info("fence")
    while info.state in _MOVING and time.monotonic() < deadline:
        time.sleep(POLL)
        info = supervisor.process_info("fence")
    return info


def started_since(info: ProcessInfo, since, pid_before: int | None) -> bool:
    """A fence process that began at or after `since`, and is not the one seen before."""
    new_pid = pid_before is None or info.pid != pid_before
    return info.running and new_pid and info.started is not None and info.started >= since - START_SLACK


def wait_for_new_fence(supervisor, *, since, pid_before: int | None, timeout: float) -> tuple[ProcessInfo, bool]:
    """(fence, True) once a fence started since `since` runs; (last seen, False)
    when the timeout passes first. NotVerified when fence went FATAL."""
    deadline = time.monotonic() + timeout
    while True:
        info = supervisor.process_info("fence")
        if started_since(info, since, pid_before):
            return info, True
        if info.state == "FATAL":
            reason = f": {info.spawn_error}" if info.spawn_error else ""
            raise NotVerified(f"fence is FATAL{reason}")
        if time.monotonic() > deadline:
            return info, False
        time.sleep(POLL)


def watch(supervisor, fence: ProcessInfo, seconds: float) -> None:
    """fence stays RUNNING with the same pid for `seconds`, looked at every POLL."""
    end = time.monotonic() + seconds
    while True:
        now = supervisor.process_info("fence")
        if not now.running or now.pid != fence.pid:
            raise NotVerified(f"fence did not stay up for {seconds:g} s: pid {fence.pid} -> now {describe(now)}")
        remaining = end - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(POLL, remaining))


def config_names(named: str, image: str) -> None:
    """`named`: the config read after the new fence was seen (config_read.py)."""
    if named != image:
        raise NotVerified(f"the cluster config now names {named}, not {image}")


READY_PAST_FIRST_BATCH = "kato process ready: asked on the first batch"


def ready_note(kato) -> str:
    """`kato process ready fence` as a second signal where kato has it."""
    try:
        ready = kato.process_ready("fence")
    except KatoError:
        return "kato process ready: not available on this kato"
    if not ready:
        raise NotVerified("supervisord shows fence RUNNING but `kato process ready fence` says NOT READY")
    return "kato process ready fence: READY"
