"""Read and atomically write the small JSON state files of a node.

fence.json, faults.json and sandbox.json are read by other processes while
they may be rewritten, so a write goes to a temp file in the same directory
and is renamed over the old one (os.replace is atomic on POSIX): a reader
sees the old document or the new one, never half of one.
"""
import json
import os
from pathlib import Path


def read_json(path, default=None):
    """The parsed document, or ``default`` when the file does not exist."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default


def write_json(path, data):
    path = Path(path)
    # pid in the temp name: two writers never share (and truncate) one temp file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
