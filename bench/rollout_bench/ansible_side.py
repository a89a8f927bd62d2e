"""The same work as a hand-written Ansible playbook, over the same sshd
nodes: `docker pull` by digest and `docker tag` on every DEA, `kato config
set` on the Core, `kato process restart fence` one DEA first and then the
rest (serial: [1, "100%"]); raw module, pipelining, ControlPersist, forks.
It verifies nothing and writes no audit: the comparison's lower bound."""
import os
import shutil
import subprocess  # noqa: S404  runs ansible-playbook, argv list
import sys
import tempfile
import time
from pathlib import Path

import yaml

from sandbox import layout, sshd

PLAYBOOK = [
    {"name": "pull the version on every DEA", "hosts": "deas", "gather_facts": False, "tasks": [
        {"name": "docker pull by digest", "raw": "docker pull {{ pull_ref }}"},
        {"name": "docker tag", "raw": "docker tag {{ pull_ref }} {{ image }}"}]},
    {"name": "name it in the cluster config", "hosts": "core", "gather_facts": False, "tasks": [
        {"name": "kato config set", "raw": "kato config set fence docker/image {{ image }}"}]},
    {"name": "restart fence, one canary then the rest", "hosts": "deas", "gather_facts": False,
     "serial": [1, "100%"], "tasks": [
        {"name": "kato process restart fence", "raw": "kato process restart fence"}]},
]


def ansible_playbook() -> str:
    found = Path(sys.executable).with_name("ansible-playbook")
    return str(found) if found.exists() else (shutil.which("ansible-playbook") or "")


def write_project(sandbox: dict, directory: Path, forks: int) -> Path:
    """Inventory, known_hosts (the sandbox's own host key files: no trust on
    first use, as the console pins them), ansible.cfg and the playbook."""
    directory.mkdir(parents=True, exist_ok=True)
    known = []
    for node in sandbox["nodes"]:
        key = sshd.host_key(node).with_suffix(".pub").read_text().split()[:2]
        known.append(f"[{node['address']}]:{node['ssh_port']} {' '.join(key)}")
    (directory / "known_hosts").write_text("\n".join(known) + "\n")

    def host(node):
        return {"ansible_host": node["address"], "ansible_port": node["ssh_port"], "ansible_user": node["ssh_user"]}
    core = layout.node(sandbox, "core")
    inventory = {"all": {"children": {
        "core": {"hosts": {core["name"]: host(core)}},
        "deas": {"hosts": {node["name"]: host(node) for node in layout.deas(sandbox)}}}}}
    (directory / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (directory / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    (directory / "ansible.cfg").write_text(
        "[defaults]\n"
        f"inventory = {directory / 'inventory.yml'}\n"
        f"forks = {forks}\n"
        "host_key_checking = True\n"
        "gathering = explicit\n"
        "retry_files_enabled = False\n"
        f"private_key_file = {sandbox['client_key']}\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        f"ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes "
        f"-o UserKnownHostsFile={directory / 'known_hosts'} -o StrictHostKeyChecking=yes\n")
    return directory / "playbook.yml"


def _env(directory: Path, control_dir: Path) -> dict:
    return {**os.environ, "ANSIBLE_CONFIG": str(directory / "ansible.cfg"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir), "ANSIBLE_LOCAL_TEMP": str(directory / "tmp"),
            "ANSIBLE_HOME": str(directory / "home"), "ANSIBLE_NOCOLOR": "1"}


def syntax_check(directory: Path) -> dict:
    playbook = ansible_playbook()
    if not playbook:
        raise RuntimeError("ansible-playbook is not installed (bench/requirements.txt)")
    result = subprocess.run([playbook, "--syntax-check", str(directory / "playbook.yml")],  # noqa: S603
                            env=_env(directory, directory / "cp"), capture_output=True, text=True, timeout=300,
                            check=False)
    return {"side": "ansible", "syntax_check": result.returncode == 0,
            "output": (result.stdout + result.stderr).strip()[-2000:]}


def run(directory: Path, version, *, log: Path) -> dict:
    """One run from cold: a new ControlPath directory, so no connection of an earlier run is reused."""
    control_dir = Path(tempfile.mkdtemp(prefix="acp-"))  # short: a socket path must stay under 108 bytes
    command = [ansible_playbook(), str(directory / "playbook.yml"),
               "-e", f"pull_ref={version.pull_reference}", "-e", f"image={version.registry_reference}"]
    began = time.monotonic()
    with log.open("a") as out:
        result = subprocess.run(command, env=_env(directory, control_dir), stdout=out,  # noqa: S603
                                stderr=subprocess.STDOUT, timeout=1800, check=False)
    seconds = time.monotonic() - began
    for master in control_dir.glob("*"):  # the persisted masters: closed, as a finished run leaves them to expire
        subprocess.run(["ssh", "-o", f"ControlPath={master}", "-O", "exit", "x"],  # noqa: S603 S607
                       capture_output=True, check=False, timeout=30)
    shutil.rmtree(control_dir, ignore_errors=True)
    return {"side": "ansible", "seconds": round(seconds, 2), "ok": result.returncode == 0,
            "exit_code": result.returncode}
