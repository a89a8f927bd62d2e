"""Reading `kato process list`, whose human-readable layout is not documented.

All the product takes from it is each process's name and state, the two
things Stackato documents (the cloud controller's components endpoint
returns the same list as JSON, with RUNNING, STARTING, STOPPED, ROGUE).
pid, image and start time come from supervisord (nodes/supervisor.py), never
from here: columns after the state are ignored, whatever they say.

Accepted, so that a layout change in kato is not an outage:
- JSON (`-j`): {name: state}, {name: {"state"|"status"|"statename": state}},
  [{"name": name, "state"|"status": state}], or one of those under the node's
  address or a "processes" key;
- text: one `name STATE` per line, separated by any spaces or tabs, an
  optional ':' after the name, indentation, extra columns after the state,
  terminal colour codes; blank lines, node header lines (`10.0.0.7:` or a
  bare address) and a column header (`PROCESS STATE`, `Name  Status`).
States outside the known list are kept as printed: anything but RUNNING
counts as not running. Anything else is an error naming the line.
"""
import ipaddress
import json
import re
from dataclasses import dataclass

KNOWN_STATES = frozenset({"RUNNING", "STARTING", "STOPPED", "STOPPING", "ROGUE", "BACKOFF", "EXITED",
                          "FATAL", "UNKNOWN"})
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_UNKNOWN_STATE = re.compile(r"[A-Z][A-Z_]+")
_HEADER_NAMES = {"process", "processes", "name", "program"}
_HEADER_STATES = {"state", "status"}


class KatoOutputError(ValueError):
    """kato printed something that is not a process list."""


@dataclass(frozen=True)
class Process:
    name: str
    state: str

    @property
    def running(self) -> bool:
        return self.state == "RUNNING"


def _state(word) -> str | None:
    if not isinstance(word, str):
        return None
    if word.upper() in KNOWN_STATES:
        return word.upper()
    return word if _UNKNOWN_STATE.fullmatch(word) else None


def _is_node_header(tokens: list[str]) -> bool:
    if len(tokens) != 1:
        return False
    word = tokens[0].rstrip(":")
    try:
        ipaddress.IPv4Address(word)
        return True
    except ValueError:
        return tokens[0].endswith(":") and bool(re.fullmatch(r"[A-Za-z0-9_.-]+", word))


def _text_line(line: str) -> Process | None:
    tokens = _ANSI.sub("", line).split()
    if not tokens or _is_node_header(tokens):
        return None
    if len(tokens) >= 2 and tokens[0].lower().rstrip(":") in _HEADER_NAMES and tokens[1].lower() in _HEADER_STATES:
        return None
    name = tokens[0].rstrip(":")
    state = _state(tokens[1]) if len(tokens) >= 2 else None
    if not _NAME.fullmatch(name) or state is None:
        raise KatoOutputError(f"not a `name STATE` line: {line.strip()!r:.120}")
    return Process(name, state)


def _json_entries(data) -> list[Process]:
    if isinstance(data, dict) and len(data) == 1:
        (key, inner), = data.items()
        if key == "processes" or _is_node_header([key]):
            return _json_entries(inner)
    pairs = []
    if isinstance(data, list):
        for item in data:
            if not isinstance(item, dict):
                raise KatoOutputError(f"a JSON process entry is not an object: {item!r:.120}")
            pairs.append((item.get("name"), item.get("state", item.get("status"))))
    elif isinstance(data, dict):
        for name, value in data.items():
            if isinstance(value, dict):
                value = value.get("state", value.get("status", value.get("statename")))
            pairs.append((name, value))
    else:
        raise KatoOutputError(f"JSON that is not a process list: {data!r:.120}")
    processes = []
    for name, state in pairs:
        if not isinstance(name, str) or not _NAME.fullmatch(name) or _state(state) is None:
            raise KatoOutputError(f"not a process name and state: {name!r:.60} {state!r:.60}")
        processes.append(Process(name, _state(state)))
    return processes


def parse_process_list(text: str) -> list[Process]:
    """The processes kato listed, in its order; KatoOutputError for output it cannot be."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            processes = _json_entries(json.loads(stripped))
        except json.JSONDecodeError as error:
            raise KatoOutputError(f"looks like JSON but is not ({error.msg} at character {error.pos})") from None
    else:
        processes = [p for p in (_text_line(line) for line in stripped.splitlines()) if p is not None]
    if not processes:
        raise KatoOutputError("no process at all")
    seen: dict[str, str] = {}
    for process in processes:
        if seen.setdefault(process.name, process.state) != process.state:
            raise KatoOutputError(f"{process.name} listed twice, {seen[process.name]} and {process.state}")
    return list({p.name: p for p in processes}.values())


def parse_ready(text: str, name: str) -> bool:
    """`kato process ready NAME`: True for READY, False for NOT READY (optionally after `name:`)."""
    words = _ANSI.sub("", text).replace(":", " ").split()
    if words[:1] == [name]:
        words = words[1:]
    if words == ["READY"]:
        return True
    if [w.upper() for w in words] in (["NOT", "READY"], ["NOT_READY"]):
        return False
    raise KatoOutputError(f"neither READY nor NOT READY: {text.strip()!r:.120}")
