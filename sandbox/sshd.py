"""One OpenSSH sshd per node, on the node's own loopback address."""
import subprocess
from pathlib import Path

from sandbox import procs

SSHD = "/usr/sbin/sshd"


def host_key(node: dict) -> Path:
    return Path(node["dir"]) / "ssh_host_ed25519_key"


def _files(node: dict) -> tuple[Path, Path, Path]:
    d = Path(node["dir"])
    return d / "sshd_config", d / "sshd.pid", d / "sshd.log"


def ensure_client_key(private_key: Path) -> Path:
    """The dashboard's key pair; made once if missing. Returns the .pub path."""
    public = private_key.with_name(private_key.name + ".pub")
    if not private_key.exists():
        private_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stackato_dash",
                        "-f", str(private_key)], check=True)
    return public


def make_host_key(node: dict) -> None:
    key = host_key(node)
    key.unlink(missing_ok=True)
    key.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", node["name"], "-f", str(key)], check=True)


def fingerprint(node: dict) -> str:
    """SHA256:... as `ssh` prints it on first connect."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(host_key(node).with_suffix(".pub"))],
                         check=True, capture_output=True, text=True).stdout
    return out.split()[1]


def node_home(node: dict) -> Path:
    return Path(node["dir"]) / "home"


def node_environment(cluster: dict, node: dict) -> dict:
    env = {
        # The node's own home, not the machine's: bash run by sshd sources
        # ~/.bashrc, and a developer's (pyenv init: ~20 processes, 0.2 s of
        # CPU) would run before every command a console or a playbook sends,
        # which no DEA does. It is empty, as a fresh node user's is.
        "HOME": str(node_home(node)),
        "SANDBOX_STATE": cluster["state_dir"],
        "SANDBOX_NODE": node["name"],
        "PATH": f"{cluster['state_dir']}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    }
    if node["docker_host"]:
        env["DOCKER_HOST"] = node["docker_host"]
    return env


def write_config(cluster: dict, node: dict, client_public_key: Path) -> None:
    d = Path(node["dir"])
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    if not host_key(node).exists():
        make_host_key(node)
    node_home(node).mkdir(mode=0o700, exist_ok=True)
    authorized = d / "authorized_keys"
    authorized.write_text(client_public_key.read_text())
    authorized.chmod(0o600)
    config, _, _ = _files(node)
    setenv = " ".join(f"{k}={v}" for k, v in node_environment(cluster, node).items())
    config.write_text(f"""# sandbox node {node['name']}: written by `manage.py sandbox up`
ListenAddress {node['address']}:{node['ssh_port']}
HostKey {host_key(node)}
PidFile none
AuthorizedKeysFile {authorized}
# The state directory may sit under /tmp (tests), whose sticky world-writable
# mode StrictModes rejects; the files themselves are still 0600/0700.
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
AcceptEnv none
Subsystem sftp internal-sftp
SetEnv {setenv}
# The console reaches the node's own supervisord (XML-RPC on port 9001)
# through this connection; nothing else may be forwarded.
AllowTcpForwarding local
PermitOpen {node['address']}:9001
""")


def running(node: dict) -> int | None:
    _, pidfile, _ = _files(node)
    return procs.alive(pidfile, SSHD)


def start(node: dict) -> None:
    if running(node):
        return
    config, pidfile, log = _files(node)
    procs.require_port_free(node["address"], node["ssh_port"], f"sshd of node {node['name']}")
    # sshd refuses to start without its privilege-separation directory.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    procs.spawn([SSHD, "-D", "-e", "-f", str(config)], pidfile, log)
    procs.wait_until(lambda: procs.tcp_open(node["address"], node["ssh_port"]), 15,
                     f"sshd of node {node['name']} on {node['address']}:{node['ssh_port']}", log)


def stop(node: dict) -> None:
    _, pidfile, _ = _files(node)
    procs.stop(pidfile, SSHD)


def rotate_host_key(node: dict) -> None:
    """A new host key, as after a reinstall (or an attack): clients that pinned
    the old one must refuse the node."""
    was_running = running(node)
    stop(node)
    make_host_key(node)
    if was_running:
        start(node)
