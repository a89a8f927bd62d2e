"""The smoke test: is the new image healthy before any config changes?

fence RUNNING says nothing about the image (on a real DEA, apps start from
it later), so before the cluster config changes, each canary (3.0) or one
DEA (3.0.1+) runs one container of the new image with the image's own CMD,
no network, for SMOKE_SECONDS. The docker CLI forms are those Docker 1.x
engines have too (`--net`, `.State.Running`; see nodes/remote_docker.py). "A healthy image" means exactly this: a
container of it starts and is still running when the window ends. One that
cannot start (no CMD, a CMD that is not in the image, ...) or that exits
within the window is a failed canary, and the rollout stops with the config
and every fence untouched.
"""
from nodes import ssh

SMOKE_SECONDS = 3
# `timeout` (coreutils) ends `docker wait` when the window passes: exit 124.
# The wait returns at once if the container exits, so nothing here sleeps a
# fixed time: it waits on the container's own state change.
_WINDOW_PASSED = 124


class ImageUnhealthy(Exception):
    """A container of the image did not start, or did not stay up."""


def container_name(step) -> str:
    return f"stackato-dash-smoke-{step.rollout_id.hex[:12]}"


def run(step, session, seconds: int = SMOKE_SECONDS) -> str:
    name = container_name(step)
    session.run(["docker", "rm", "-f", "--", name])  # a retry's leftover
    try:
        started = session.run(["docker", "run", "-d", "--net", "none", "--name", name, "--", step.image])
        if started.exit_code != 0:
            raise ImageUnhealthy(f"a container of {step.image} cannot start: "
                                 f"{ssh.excerpt(started.stderr or started.stdout)}")
        waited = session.run(["timeout", str(seconds), "docker", "wait", "--", name], timeout=seconds + 30)
        if waited.exit_code != _WINDOW_PASSED:
            raise ImageUnhealthy(f"a container of {step.image} {_ended(session, name, waited, seconds)}")
        # .State.Running, not .State.Status (Docker 1.9+): the old engines' form too.
        state = session.run(["docker", "inspect", "--type", "container", "--format", "{{.State.Running}}", "--", name])
        if state.stdout.strip() != "true":
            raise ImageUnhealthy(f"a container of {step.image} is "
                                 f"{'not running' if state.exit_code == 0 else 'gone'} after {seconds} s"
                                 f"{_logs(session, name)}")
    finally:
        session.run(["docker", "rm", "-f", "--", name])
    return f"a container of {step.image} (its own CMD, network none) ran {seconds} s on {step.node.address}"


def _ended(session, name: str, waited, seconds: int) -> str:
    if waited.exit_code == 0 and waited.stdout.strip().lstrip("-").isdigit():
        return f"exited with code {waited.stdout.strip()} within {seconds} s{_logs(session, name)}"
    return f"could not be watched: `docker wait` exited {waited.exit_code}: " \
           f"{ssh.excerpt(waited.stderr or waited.stdout)}"


def _logs(session, name: str) -> str:
    logs = session.run(["docker", "logs", "--tail", "20", "--", name])
    text = ssh.excerpt(logs.stdout + logs.stderr)
    return f"; its last output: {text}" if text else "; it printed nothing"
