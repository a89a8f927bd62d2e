"""`sandbox fault NODE KNOB [VALUE]`: make a node misbehave on purpose."""
from pathlib import Path

from sandbox import layout, registry, sshd
from sandbox.nodeside import faults
from sandbox.procs import SandboxError

KNOBS = ("restart-delay", "fail-restarts", "hang", "down", "up", "rotate-host-key", "reset")
REGISTRY_KNOBS = ("down", "up")


def apply(state_dir: Path, target: str, knob: str, value: str | None = None) -> str:
    """Apply one knob; returns a line saying what changed."""
    cluster = layout.load(state_dir)
    if target == "registry":
        return _registry(cluster, knob)
    node = layout.node(cluster, target)
    if knob not in KNOBS:
        raise SandboxError(f"unknown knob {knob!r}; knobs: {', '.join(KNOBS)}.")
    if knob == "restart-delay":
        faults.write(node["dir"], restart_delay=_number(knob, value, float))
    elif knob == "fail-restarts":
        faults.write(node["dir"], fail_restarts=_number(knob, value, int))
    elif knob == "hang":
        if value not in ("on", "off"):
            raise SandboxError("hang takes on or off.")
        faults.write(node["dir"], hang=value == "on")
    elif knob == "down":
        faults.write(node["dir"], down=True)
        sshd.stop(node)
    elif knob == "up":
        faults.write(node["dir"], down=False)
        sshd.start(node)
    elif knob == "rotate-host-key":
        sshd.rotate_host_key(node)
        return f"{node['name']}: new host key {sshd.fingerprint(node)}"
    elif knob == "reset":
        reset(cluster, node)
    return f"{node['name']}: {faults.read(node['dir'])}"


def reset(cluster: dict, node: dict) -> None:
    """Clear every knob and make sure the node answers SSH again."""
    faults.reset(node["dir"])
    if not sshd.running(node):
        sshd.start(node)


def reset_all(state_dir: Path) -> None:
    cluster = layout.load(state_dir)
    for node in cluster["nodes"]:
        reset(cluster, node)
    if not registry.running(cluster):
        registry.start(cluster)


def _registry(cluster: dict, knob: str) -> str:
    if knob not in REGISTRY_KNOBS:
        raise SandboxError(f"the registry takes down or up, not {knob!r}.")
    if knob == "down":
        registry.stop(cluster)
    else:
        registry.start(cluster)
    return f"registry {registry.location(cluster)}: {knob}"


def _number(knob: str, value: str | None, kind):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SandboxError(f"{knob} takes a number, not {value!r}.") from None
    if number < 0:
        raise SandboxError(f"{knob} takes a number of 0 or more.")
    return number
