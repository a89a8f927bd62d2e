"""`kato config get|set`: type guessing and output formats.

get: a scalar is printed bare, a map or list as YAML (yaml_emit), with
-j/--json as JSON. set: without --json the value's type is guessed like
kato does and announced on stdout as `WARNING: Assumed type <type>` before
the value (printed as get would print it); with --json the value is parsed
as JSON, no warning is printed and the value is echoed as JSON.
"""
import json
import re

from . import config_store, yaml_emit

_INT = re.compile(r"[-+]?[0-9]+")


class UsageError(ValueError):
    """The command line cannot be acted on."""


def guess_type(text):
    """(value, kato type name) for a command-line value: bool, int, struct or string."""
    if text in ("true", "false"):
        return text == "true", "bool"
    if _INT.fullmatch(text):
        return int(text), "int"
    if text[:1] in ("[", "{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, (list, dict)):
            return value, "struct"
    return text, "string"


def format_value(value, as_json=False):
    if as_json:
        return json.dumps(value, indent=2 if isinstance(value, (dict, list)) else None)
    if isinstance(value, (dict, list)):
        return yaml_emit.dump(value)
    if isinstance(value, str):
        return value  # bare: `kato config get fence docker/image` prints the ref alone
    return yaml_emit.scalar(value)


def config_get(client, component, path=None, as_json=False):
    """Output text of `kato config get`; raises config_store.ConfigError."""
    return format_value(config_store.get_value(client, component, path), as_json)


def config_set(client, component, path, text, as_json=False):
    """Output lines of `kato config set` after writing the value."""
    if as_json:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"value is not valid JSON ({exc})") from None
        config_store.set_value(client, component, path, value)
        return [format_value(value, as_json=True)]
    value, kind = guess_type(text)
    config_store.set_value(client, component, path, value)
    return [f"WARNING: Assumed type {kind}", format_value(value)]
