"""What `kato process list` (text or -j JSON) shows of a node's processes,
read with the product's own parser (nodes/kato_output.py): the suite's one
reader of fence's state as kato shows it (names and states, nothing more)."""
from nodes.kato_output import parse_process_list


def process_states(output: str) -> dict[str, str]:
    return {process.name: process.state for process in parse_process_list(output)}


def fence_state(output: str) -> str:
    states = process_states(output)
    assert "fence" in states, f"kato lists no fence: {output!r}"
    return states["fence"]
