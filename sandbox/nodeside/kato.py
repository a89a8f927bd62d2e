"""`kato`: the subset of Stackato's node CLI the product calls (sandbox/README.md).

Run as `python -m sandbox.nodeside.kato ...` (the orchestrator's bin/kato
wrapper execs it). The cluster comes from SANDBOX_STATE/sandbox.json and
this node from SANDBOX_NODE. Results go to stdout, errors to stderr; the
exit code follows the emulated version: 0 even on failure before 3.4.1
(so callers must verify), non-zero on failure in 3.4.1 (1; 2 for usage).
"""
import argparse
import ipaddress
import json
import sys

from . import cluster_file, versions


class UsageError(Exception):
    pass


class Failure(Exception):
    """The command ran and failed; str() is what goes to stderr."""


class _Parser(argparse.ArgumentParser):
    # argparse would exit 2 on its own; the exit code is the version's call
    def error(self, message):
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def _address(text):
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text!r}") from None


def build_parser():
    p = _Parser(prog="kato", description="Stackato node CLI (sandbox emulation)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    config = sub.add_parser("config", help="read or write the cluster config")
    csub = config.add_subparsers(dest="action", required=True, parser_class=_Parser)
    get = csub.add_parser("get", help="print a component or one key of it")
    get.add_argument("component")
    get.add_argument("key", nargs="?", help="slash path, e.g. docker/image")
    get.add_argument("-j", "--json", action="store_true", help="print JSON")
    get.set_defaults(func=cmd_config_get)
    cset = csub.add_parser("set", help="write one key (cluster-wide)")
    cset.add_argument("component")
    cset.add_argument("key")
    cset.add_argument("value")
    cset.add_argument("--json", action="store_true", help="the value is JSON")
    cset.set_defaults(func=cmd_config_set)

    process = sub.add_parser("process", help="list or restart processes")
    psub = process.add_subparsers(dest="action", required=True, parser_class=_Parser)
    plist = psub.add_parser("list", help="processes of this (or another) node")
    plist.add_argument("-n", "--node", type=_address, metavar="IP")
    plist.add_argument("-j", "--json", action="store_true")
    plist.set_defaults(func=cmd_process_list)
    pready = psub.add_parser("ready", help="READY when the process is up")
    pready.add_argument("name")
    pready.add_argument("-n", "--node", type=_address, metavar="IP")
    pready.set_defaults(func=cmd_process_ready)
    prestart = psub.add_parser("restart", help="restart one process")
    prestart.add_argument("name")
    prestart.add_argument("-n", "--node", type=_address, metavar="IP")
    prestart.set_defaults(func=cmd_process_restart)

    status = sub.add_parser("status", help="every node and its processes")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    node = sub.add_parser("node", help="cluster nodes")
    nsub = node.add_subparsers(dest="action", required=True, parser_class=_Parser)
    nsub.add_parser("list", help="one line per node: IP roles").set_defaults(func=cmd_node_list)

    info = sub.add_parser("info", help="this node")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=cmd_info)
    return p


def _out(line):
    print(line, flush=True)


def _redis(cluster):
    from . import config_store

    return config_store.connect(cluster)


def _target(cluster, address):
    """The node -n names (after the `down` knob check), or this node."""
    from . import kato_process

    if address is None:
        return cluster_file.this_node(cluster)
    node = cluster_file.node_by_address(cluster, address)
    if node is None:
        raise Failure(f"Error: no node with address {address} in the cluster")
    kato_process.check_reachable(node)
    return node


def cmd_config_get(cluster, args):
    from . import kato_config

    _out(kato_config.config_get(_redis(cluster), args.component, args.key, args.json))


def cmd_config_set(cluster, args):
    from . import kato_config

    for line in kato_config.config_set(_redis(cluster), args.component, args.key,
                                       args.value, args.json):
        _out(line)


def cmd_process_list(cluster, args):
    from . import kato_process

    procs = kato_process.node_processes(cluster, _target(cluster, args.node))
    if args.json:
        _out(json.dumps(kato_process.as_json(procs), indent=2))
    else:
        for proc in procs:
            _out(kato_process.format_process(proc))


def cmd_process_ready(cluster, args):
    from . import kato_process

    _out(kato_process.ready(cluster, _target(cluster, args.node), args.name))


def cmd_process_restart(cluster, args):
    from . import kato_process

    kato_process.restart(_target(cluster, args.node), args.name, _out)


def _by_address(nodes):
    return sorted(nodes, key=lambda n: ipaddress.IPv4Address(n["address"]))


def cmd_status(cluster, args):
    from . import kato_process

    report = {}
    for node in _by_address(cluster["nodes"]):
        try:
            kato_process.check_reachable(node)
            procs, reachable = kato_process.node_processes(cluster, node), True
        except kato_process.NodeUnreachable:
            procs, reachable = [], False
        report[node["address"]] = {"roles": node["roles"], "reachable": reachable,
                                   "processes": kato_process.as_json(procs)}
    if args.json:
        _out(json.dumps(report, indent=2))
        return
    for address, entry in report.items():
        _out(address if entry["reachable"] else f"{address} unreachable")
        for name, state in entry["processes"].items():
            _out("  " + kato_process.format_process({"name": name, "state": state}))


def cmd_node_list(cluster, args):
    from . import config_store

    nodes = config_store.get_value(_redis(cluster), config_store.NODE_COMPONENT)
    for address in sorted(nodes, key=ipaddress.IPv4Address):
        _out(" ".join([address] + list(nodes[address].get("roles", []))))


def cmd_info(cluster, args):
    node = cluster_file.this_node(cluster)
    info = {"address": node["address"], "name": node["name"], "roles": node["roles"],
            "version": cluster["kato_version"]}
    if args.json:
        _out(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            _out(f"{key}: {' '.join(value) if key == 'roles' else value}")


def _known_errors():
    from . import config_store, kato_config, kato_process

    return (Failure, cluster_file.ClusterFileError, config_store.ConfigError,
            kato_config.UsageError, kato_process.ProcessError)


def _message(exc):
    text = str(exc)
    # process errors are already `<name>: ERROR (...)` or `Error: ...` lines
    return text if text.startswith("Error") or ": ERROR (" in text else f"Error: {text}"


def main(argv=None):
    try:
        cluster = cluster_file.load()
        strict = versions.strict_exit_codes(cluster["kato_version"])
    except cluster_file.ClusterFileError as exc:
        cluster, strict, problem = None, True, exc  # no version known: do not hide it
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2 if strict else 0
    if cluster is None:
        print(_message(problem), file=sys.stderr)
        return 1
    try:
        args.func(cluster, args)
        return 0
    except _known_errors() as exc:
        print(_message(exc), file=sys.stderr, flush=True)
        return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
