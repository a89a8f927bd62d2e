"""Faults the sandbox's own knobs (sandbox/README.md) do not make, injected
from the test side for the fault matrix (docs/operations.md):
- a node whose sshd is frozen (SIGSTOP): a new SSH connection is accepted by
  the kernel and then hears nothing, so a step is held in its connect until
  SSH_CONNECT_TIMEOUT, long enough to kill its worker there;
- a kato that misbehaves on one node (garbage, nothing, exit 0 after doing
  nothing) for one subcommand, the real one running for the rest;
- a client key the nodes do not authorize (SSH authentication fails);
- queued jobs Redis forgets (a Redis restarted without its append-only file).
The knobs themselves (down, hang, fail-restarts, rotate-host-key, registry
down) stay in sandbox/knobs.py."""
import contextlib
import os
import shlex
import signal
import subprocess
from pathlib import Path

from rq.job import Job


@contextlib.contextmanager
def frozen_sshd(node: dict):
    """The node's listening sshd stopped in its tracks (not its open connections)."""
    pid = int((Path(node["dir"]) / "sshd.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


# What the replaced kato does for the one subcommand: garbage on stdout, nothing
# at all, or (old kato's way) nothing done and exit 0 with an error on stderr.
KATO_MISBEHAVIOURS = {
    "garbage": "printf '\\033[31m%s\\n' '~~ 0xDEADBEEF ~~' 'fence: ???' ; exit 0",
    "nothing": "exit 0",
    "exit 0 after failing": "echo 'Error: failed to talk to the supervisor' >&2; exit 0",
}


@contextlib.contextmanager
def misbehaving_kato(sandbox: dict, node: dict, subcommand: str, how: str):
    """`kato <subcommand> ...` on `node` does `how` (KATO_MISBEHAVIOURS) instead
    of its work; every other node and subcommand runs the sandbox's kato.
    The sandbox's bin/kato is shared by its nodes, so it is wrapped, and put
    back afterwards."""
    kato = Path(sandbox["state_dir"]) / "bin" / "kato"
    real = kato.with_name("kato.real")
    words = shlex.quote(subcommand)
    kato.rename(real)
    kato.write_text(
        "#!/bin/sh\n"
        f"if [ \"$SANDBOX_NODE\" = {shlex.quote(node['name'])} ] && "
        f"[ \"$(echo \"$*\" | cut -d' ' -f1-{len(subcommand.split())})\" = {words} ]; then\n"
        f"  {KATO_MISBEHAVIOURS[how]}\n"
        "fi\n"
        f"exec {shlex.quote(str(real))} \"$@\"\n")
    kato.chmod(0o755)
    try:
        yield
    finally:
        real.replace(kato)


def unauthorized_key(directory: Path) -> Path:
    """An ed25519 key no node authorizes."""
    key = directory / "not_authorized_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def forget_queued_jobs(queue, job_ids) -> list[str]:
    """What a Redis restarted without its data does to queued jobs: gone from
    the queue and from Redis altogether. Returns the ids that were queued."""
    gone = []
    for job_id in job_ids:
        if job_id in queue.job_ids:
            queue.remove(job_id)
            Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer).delete()
            gone.append(job_id)
    return gone
