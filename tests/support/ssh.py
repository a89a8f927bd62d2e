"""Run a command on a sandbox node over real SSH, with the host key checked
against the one the sandbox reports (RejectPolicy: never trust on first use)."""
import base64
from pathlib import Path

import paramiko


def connect(node: dict, private_key: str | Path, host_key_file: str | Path | None = None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    key_file = Path(host_key_file or Path(node["dir"]) / "ssh_host_ed25519_key.pub")
    key_type, key_b64 = key_file.read_text().split()[:2]
    host = node["address"] if node["ssh_port"] == 22 else f"[{node['address']}]:{node['ssh_port']}"
    client.get_host_keys().add(host, key_type, paramiko.Ed25519Key(data=base64.b64decode(key_b64)))
    client.connect(node["address"], port=node["ssh_port"], username=node["ssh_user"],
                   key_filename=str(private_key), look_for_keys=False, allow_agent=False, timeout=10)
    return client


def run(node: dict, private_key, command: str, timeout: float = 60) -> tuple[int, str, str]:
    client = connect(node, private_key)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        out = stdout.read().decode()
        err = stderr.read().decode()
        return stdout.channel.recv_exit_status(), out, err
    finally:
        client.close()
