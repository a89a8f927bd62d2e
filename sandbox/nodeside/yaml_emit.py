"""A tiny YAML emitter for what the kato config holds: maps, lists, scalars.

`kato config get` prints maps and lists as YAML, and PyYAML is not a
dependency of the node side, so this writes block-style YAML:

    docker:
      images:
        - stackato/app-holophonor:3.0.0
    limits: {}

- no `---` header, no trailing newline (print() adds one);
- map keys keep their stored order; empty maps/lists are `{}` / `[]`;
- None is `null`, booleans `true`/`false`, numbers as Python prints them;
- a string is written plain when no YAML 1.1 or 1.2 reader could take it
  for anything but that string, otherwise double-quoted with JSON escapes
  (a JSON string is a valid YAML double-quoted scalar). So `"3.0"`, `"true"`,
  `"1:20"`, `"2024-01-01"`, `""` are quoted; `127.0.0.11` and
  `stackato/app-holophonor:3.0.0` are not.
The unit tests read the output back with PyYAML when it is installed.
"""
import json
import math
import re

_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:+-]*")
_NUMBER = re.compile(
    r"[-+]?(?:0[xob][0-9a-fA-F_]+"
    r"|[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|\.(?:inf|Inf|INF|nan|NaN|NAN))")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _plain_ok(text):
    return (bool(_PLAIN.fullmatch(text))
            and not text.endswith(":")
            and text.lower() not in _RESERVED
            and not _NUMBER.fullmatch(text)
            and not _TIMESTAMP.fullmatch(text))


def scalar(value):
    """One scalar as YAML text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    text = str(value)
    return text if _plain_ok(text) else json.dumps(text, ensure_ascii=False)


def _is_block(value):
    return isinstance(value, (dict, list)) and len(value) > 0


def _lines(value, indent):
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        out = []
        for key, item in value.items():
            if _is_block(item):
                out.append(f"{pad}{scalar(str(key))}:")
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{pad}{scalar(str(key))}: {_inline(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if _is_block(item):
                # the first line of the nested block shares the "- " line
                nested = _lines(item, indent + 2)
                out.append(f"{pad}- {nested[0][indent + 2:]}")
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + scalar(value)]


def _inline(value):
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def dump(value):
    """YAML text for value, without a trailing newline."""
    return "\n".join(_lines(value, 0))
