"""python manage.py sandbox up|down|status|fault: the local test cluster."""
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox import cluster, knobs, layout
from sandbox.procs import SandboxError


class Command(BaseCommand):
    help = "Run a small Stackato cluster (Core + DEA nodes) from real parts on loopback addresses."

    def add_arguments(self, parser):
        parser.add_argument("--state-dir", type=Path, default=settings.SANDBOX_DIR,
                            help="where the sandbox keeps its state (default: SANDBOX_DIR)")
        sub = parser.add_subparsers(dest="action", required=True)
        up = sub.add_parser("up", help="start the cluster (reuses what already runs)")
        up.add_argument("--dea", type=int, default=3, help="number of DEA nodes (default 3)")
        up.add_argument("--no-docker", action="store_true", help="no Docker engines (scale tests)")
        up.add_argument("--kato-version", default="3.0", choices=layout.KATO_VERSIONS)
        up.add_argument("--base-address", default=settings.SANDBOX_BASE_ADDRESS,
                        help="the Core node's loopback address; DEAs take the next ones")
        up.add_argument("--ssh-port", type=int, default=settings.SANDBOX_SSH_PORT)
        up.add_argument("--client-key", type=Path, default=settings.SSH_PRIVATE_KEY_PATH,
                        help="the dashboard's private key (made if missing); its .pub is authorized")
        down = sub.add_parser("down", help="stop everything the sandbox started")
        down.add_argument("--purge", action="store_true", help="also delete the state directory")
        status = sub.add_parser("status", help="nodes, addresses, host keys, fence state")
        status.add_argument("--json", action="store_true")
        register = sub.add_parser("register", help="add the sandbox to the console as a cluster, host keys pinned")
        register.add_argument("--name", default="sandbox", help="the Cluster's name (default: sandbox)")
        fault = sub.add_parser("fault", help="make a node (or the registry) misbehave")
        fault.add_argument("node", help="node name or address, or `registry`")
        fault.add_argument("knob", help=", ".join(knobs.KNOBS))
        fault.add_argument("value", nargs="?")

    def handle(self, *args, **options):
        state_dir = options["state_dir"].resolve()
        try:
            getattr(self, f"_{options['action']}")(state_dir, options)
        except SandboxError as error:
            raise CommandError(str(error)) from None

    def _up(self, state_dir, options):
        result = cluster.up(state_dir, dea_count=options["dea"], docker=not options["no_docker"],
                            kato_version=options["kato_version"], base_address=options["base_address"],
                            ssh_port=options["ssh_port"], client_key=options["client_key"])
        names = ", ".join(f"{n['name']} {n['address']}:{n['ssh_port']}" for n in result["nodes"])
        self.stdout.write(f"sandbox up in {state_dir}: {names}")

    def _down(self, state_dir, options):
        cluster.down(state_dir, purge=options["purge"])
        self.stdout.write(f"sandbox down in {state_dir}")

    def _status(self, state_dir, options):
        report = cluster.status(state_dir)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(f"registry {report['registry']['location']} {report['registry']['state']}; "
                          f"config_redis {report['config_redis']['location']} {report['config_redis']['state']}")
        for node in report["nodes"]:
            fence = node["fence"]["state"] if node["fence"] else "-"
            self.stdout.write(f"{node['name']:<6} {node['address']}:{node['ssh_port']} {' '.join(node['roles']):<26} "
                              f"sshd {node['sshd']:<8} fence {fence:<9} {node['host_key_fingerprint']}")

    def _register(self, state_dir, options):
        from sandbox.register import register  # needs the nodes app's models

        found = register(state_dir, options["name"])
        self.stdout.write(f"cluster {found.name}: {found.nodes.count()} nodes registered, host keys pinned")

    def _fault(self, state_dir, options):
        self.stdout.write(knobs.apply(state_dir, options["node"], options["knob"], options["value"]))
