"""A typed client for the `kato` commands the product calls (DESIGN.md section 2).

Every call goes through an ssh.Session (anything with the same `run`), with
arguments validated here and quoted there. kato before 3.4.1 exits 0 even
when it fails, so a failure is recognised from what it prints, writes are
read back, and output this module does not understand is an error rather
than a guess.
"""
import ipaddress
import json
import re
import shlex
from dataclasses import dataclass

from images import references
from nodes.image_setting import ImageSetting
from nodes.kato_output import KatoOutputError, Process, parse_process_list, parse_ready
from nodes.ssh import BadArgument, CommandResult, RemoteCommandError, excerpt

# Stackato 3.x roles (`kato role list`), so an unknown word in `kato node list` is caught.
KNOWN_ROLES = frozenset({
    "base", "primary", "controller", "router", "dea", "stager", "mdns", "load_balancer",
    "filesystem", "harbor", "memcached", "mongodb", "mysql", "postgresql", "rabbit", "rabbit3", "redis",
})

_CONFIG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")  # no leading '-': it would read as an option
_PROCESS_NAME = re.compile(r"[a-z0-9_]+")
_ASSUMED = re.compile(r"WARNING: Assumed type (\w+)")
_NOT_A_STRING = re.compile(r"true|false|[-+]?[0-9]+|[\[{].*", re.DOTALL)  # what kato would guess as bool/int/struct


class KatoError(RemoteCommandError):
    """kato failed or printed something this client does not understand."""


@dataclass(frozen=True)
class NodeEntry:
    address: str
    roles: tuple[str, ...]


def _config_name(what: str, text) -> str:
    if not isinstance(text, str) or not _CONFIG_NAME.fullmatch(text):
        raise BadArgument(f"kato config {what} must match [A-Za-z0-9_./-]+ and not start with '-': {text!r:.80}")
    return text


def _node_ip(node_ip) -> list[str]:
    if node_ip is None:
        return []
    try:
        return ["-n", str(ipaddress.IPv4Address(node_ip))]
    except (ipaddress.AddressValueError, ValueError):
        raise BadArgument(f"node address must be an IPv4 address: {node_ip!r:.80}") from None


def _process_name(name) -> str:
    if not isinstance(name, str) or not _PROCESS_NAME.fullmatch(name):
        raise BadArgument(f"process name must match [a-z0-9_]+: {name!r:.80}")
    return name


def _value_text(value) -> tuple[str, str]:
    """(command-line text, the type kato must say it assumed) for a str or list[str] value."""
    if isinstance(value, str):
        if _NOT_A_STRING.fullmatch(value):
            raise BadArgument(f"kato would not store {value!r:.80} as a string (it guesses bool, int or JSON)")
        if value.startswith("-") or "\n" in value:
            raise BadArgument(f"config value must not start with '-' or contain a newline: {value!r:.80}")
        return value, "string"
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return json.dumps(list(value)), "struct"
    raise BadArgument(f"config value must be a string or a list of strings, not {value!r:.80}")


class Kato:
    def __init__(self, session, *, timeout: float | None = None):
        self.session = session
        self.timeout = timeout  # None: the session's command timeout

    def _where(self) -> str:
        return getattr(getattr(self.session, "endpoint", None), "address", "?")

    def _fail(self, result: CommandResult, why: str) -> KatoError:
        printed = excerpt(result.stderr + "\n" + result.stdout) or "(nothing)"
        return KatoError(f"{self._where()}: `{shlex.join(result.argv)}` {why} (exit {result.exit_code}); "
                         f"kato printed: {printed}", result)

    def _run(self, args: list[str], timeout: float | None = None) -> CommandResult:
        result = self.session.run(["kato", *args], timeout=timeout or self.timeout)
        # kato before 3.4.1 exits 0 on failure: its error lines are the signal.
        said_error = any(line.startswith("Error") or ": ERROR (" in line
                         for line in (result.stderr + "\n" + result.stdout).splitlines())
        if result.exit_code != 0 or said_error:
            raise self._fail(result, "failed")
        return result

    def config_get(self, component: str, key: str | None = None):
        args = ["config", "get", _config_name("component", component)]
        if key is not None:
            args.append(_config_name("key", key))
        result = self._run(args + ["--json"])
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise self._fail(result, "did not print JSON") from None

    def config_set(self, component: str, key: str, value):
        """Write a str or list[str] value cluster-wide and return it as read back."""
        text, expected = _value_text(value)
        args = ["config", "set", _config_name("component", component), _config_name("key", key), text]
        result = self._run(args)
        lines = result.stdout.splitlines()
        assumed = _ASSUMED.fullmatch(lines[0].strip()) if lines else None
        if not assumed:
            raise self._fail(result, "did not confirm the write with 'WARNING: Assumed type ...'")
        if assumed[1] != expected:
            raise self._fail(result, f"stored the value as {assumed[1]}, not {expected}")
        stored = self.config_get(component, key)  # never trust the exit code: read it back
        wanted = list(value) if expected == "struct" else value
        if stored != wanted:
            raise KatoError(f"{self._where()}: `kato config set {component} {key}` "
                            f"reported success but `kato config get` returns {stored!r:.200}, not {wanted!r:.200}",
                            result)
        return stored

    def desired_image(self, setting: ImageSetting = ImageSetting()) -> str:
        """The image fence is configured to run (a list: its first, the default)."""
        component, key = setting.component, setting.key
        value = self.config_get(component, key)

        def bad(what: str) -> KatoError:
            return KatoError(f"{self._where()}: {component} {key} {what}")
        if setting.is_list:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise bad(f"should be a non-empty list of image references, not {value!r:.200}")
            value = value[0]
        if not isinstance(value, str) or not value:
            raise bad(f"should be an image reference, not {value!r:.200}")
        # The node's word is data, not an argument: it later goes into docker
        # and kato commands (a rollback pulls it), so it must be a reference.
        try:
            references.parse(value)
        except ValueError as error:
            raise bad(f"names something that is not an image reference ({error}); refusing to use it") from None
        return value

    def set_desired_image(self, ref: str, setting: ImageSetting = ImageSetting(), fallbacks=None):
        """Make `ref` the image fence runs. A list becomes ref then the
        fallbacks (default: the entries already there, without ref)."""
        component, key = setting.component, setting.key
        if not setting.is_list:
            return self.config_set(component, key, ref)
        if fallbacks is None:
            current = self.config_get(component, key)
            fallbacks = current if isinstance(current, list) else []
        return self.config_set(component, key, [ref] + [f for f in fallbacks if f != ref])

    def process_list(self, node_ip: str | None = None) -> list[Process]:
        """Names and states only (nodes/kato_output.py): nothing else kato prints is read."""
        result = self._run(["process", "list", *_node_ip(node_ip)])
        try:
            return parse_process_list(result.stdout)
        except KatoOutputError as exc:
            raise self._fail(result, f"printed a process list this client does not understand ({exc})") from None

    def process(self, name: str, node_ip: str | None = None) -> Process:
        """One process of the node, e.g. fence; KatoError when the node has none by that name."""
        _process_name(name)
        for process in self.process_list(node_ip):
            if process.name == name:
                return process
        raise KatoError(f"{self._where()}: no process {name} on {node_ip or 'this node'} in `kato process list`")

    def process_ready(self, name: str, node_ip: str | None = None) -> bool:
        """`kato process ready NAME` (prints READY); KatoError where kato lacks it or prints something else."""
        result = self._run(["process", "ready", _process_name(name), *_node_ip(node_ip)])
        try:
            return parse_ready(result.stdout, name)
        except KatoOutputError as exc:
            raise self._fail(result, f"did not answer READY or NOT READY ({exc})") from None

    def process_restart(self, name: str, node_ip: str | None = None, *, timeout: float | None = None) -> CommandResult:
        """Restart and return what kato printed; the caller confirms with supervisord (nodes/supervisor.py)."""
        result = self._run(["process", "restart", _process_name(name), *_node_ip(node_ip)], timeout)
        if f"{name}: started" not in result.stdout.splitlines():
            raise self._fail(result, f"did not report '{name}: started'")
        return result

    def node_list(self) -> list[NodeEntry]:
        result = self._run(["node", "list"])
        entries: dict[str, NodeEntry] = {}
        for line in result.stdout.splitlines():
            if not line.strip():
                continue
            address, *roles = line.split()
            try:
                address = str(ipaddress.IPv4Address(address))
            except ValueError:
                raise self._fail(result, f"printed a line that does not start with an IPv4 address: {line!r:.120}") \
                    from None
            unknown = [role for role in roles if role not in KNOWN_ROLES]
            if unknown:
                raise self._fail(result, f"printed unknown role(s) {', '.join(unknown)} for {address}")
            if address in entries:
                raise self._fail(result, f"listed {address} twice")
            entries[address] = NodeEntry(address, tuple(roles))
        return list(entries.values())

    def info(self) -> dict:
        """`kato info` as a dict of its `key: value` lines; roles as a list."""
        result = self._run(["info"])
        info = {}
        for line in result.stdout.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep or not re.fullmatch(r"[a-z_][a-z0-9_ ]*", key.strip()):
                raise self._fail(result, f"printed a line this client does not understand: {line!r:.120}")
            info[key.strip()] = value.strip()
        if "roles" in info:
            info["roles"] = info["roles"].split()
        return info
