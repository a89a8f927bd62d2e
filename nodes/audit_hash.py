"""The fence restart audit's hash chain, in plain Python (no Django), so an
auditor can check an export offline with this file alone:

    python3 nodes/audit_hash.py fence-restarts-....csv   (or .json)
    python3 nodes/audit_hash.py --partial filtered-export.csv

An export of the whole history must hold chain #1 to its last without a gap;
a filtered export (--partial) has gaps: each row's own hash is still checked,
and the link of each pair of consecutive numbers.

A row is chained once its outcome is final. Its hash is

    row_hash = SHA-256( canonical JSON of the HASHED fields )   (hex, lower case)

where the canonical JSON is json.dumps({field: value, ...}, sort_keys=True,
separators=(",", ":"), ensure_ascii=False) encoded as UTF-8, with values:
- chain_seq, id, node_id, cluster_id, exit_code: integers (exit_code may be null);
- started_at, finished_at: UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (microseconds);
- correlation_id (and a rollout event's rollout_id): the UUID in its
  hyphenated lower-case form;
- every other field: the text as stored;
- prev_hash: the row_hash of the row with chain_seq - 1 (GENESIS for chain_seq 1).

Chain sequence numbers are 1, 2, 3, ... without gaps: a deleted row leaves a
gap, an edited row's hash no longer matches, a reordered row's prev_hash no
longer names its predecessor. The CSV export quotes cells a spreadsheet would
run as formulas with a leading ' (and a cell starting with ' gets one more):
read_file() takes it off again.
"""
import csv
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

GENESIS = "0" * 64
HASHED = ["chain_seq", "id", "node_id", "cluster_id", "cluster_name", "node_address", "started_at", "finished_at",
          "requested_by_username", "image_before", "image_after", "outcome", "exit_code", "output_excerpt",
          "correlation_id", "reason", "prev_hash"]
# Rollout events (images RolloutEvent) have their own chain, hashed the same
# way over these fields (user_id is left out: deleting a user sets it NULL).
ROLLOUT_EVENT_HASHED = ["chain_seq", "id", "rollout_id", "kind", "username", "at", "reason", "prev_hash"]
INTEGERS = {"chain_seq", "id", "node_id", "cluster_id", "exit_code"}
UUIDS = {"correlation_id", "rollout_id"}
TIMES = {"started_at", "finished_at", "at"}
CSV_QUOTED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _time(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:  # the database's naive times are UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_value(name: str, value):
    if value is None or (value == "" and (name in INTEGERS or name in TIMES)):
        return None
    if name in INTEGERS:
        return int(value)
    if name in TIMES:
        return _time(value)
    if name in UUIDS:
        return str(uuid.UUID(str(value)))
    return str(value)


def canonical(row: dict, hashed: list = HASHED) -> bytes:
    values = {name: canonical_value(name, row.get(name)) for name in hashed}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def row_hash(row: dict, hashed: list = HASHED) -> str:
    return hashlib.sha256(canonical(row, hashed)).hexdigest()


@dataclass
class Break:
    chain_seq: int | None
    row_id: int | None
    problem: str

    def __str__(self):
        return f"row {self.row_id} (chain #{self.chain_seq}): {self.problem}"


@dataclass
class Walk:
    """Checks rows fed in chain order. `contiguous`: every sequence number from
    the start must be present (the database; a full export). Otherwise (a
    filtered export) a gap is counted and the link across it is not checked."""
    last_seq: int = 0
    last_hash: str = GENESIS
    contiguous: bool = True
    checked: int = 0
    gaps: int = 0
    first_break: Break | None = None
    hashed: list = field(default_factory=lambda: HASHED, repr=False)
    seen: set = field(default_factory=set, repr=False)

    def feed(self, row: dict) -> Break | None:
        seq, row_id = int(row["chain_seq"]), row.get("id")
        problem = None
        if seq <= self.last_seq:
            problem = f"chain #{seq} again or out of order after #{self.last_seq}"
        elif seq != self.last_seq + 1 and self.contiguous:
            problem = f"chain #{self.last_seq + 1}..#{seq - 1} missing (rows deleted)"
        elif row_hash(row, self.hashed) != row.get("row_hash"):
            problem = "content does not match its hash (row edited)"
        elif seq == self.last_seq + 1 and row.get("prev_hash") != self.last_hash:
            problem = f"prev_hash does not name chain #{self.last_seq} (rows reordered or replaced)"
        if seq != self.last_seq + 1 and problem is None:
            self.gaps += 1
        self.checked += 1
        self.last_seq, self.last_hash = max(seq, self.last_seq), row.get("row_hash") or ""
        if problem and self.first_break is None:
            self.first_break = Break(seq, int(row_id) if row_id not in (None, "") else None, problem)
        return self.first_break if problem else None


def _unquote(value: str) -> str:
    """Undo the CSV export's formula quoting (nodes/admin/audit_export.py)."""
    return value[1:] if value.startswith("'") and value[1:2].startswith(CSV_QUOTED_STARTS) else value


def read_file(path: str) -> list[dict]:
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8", newline="") as f:
        return [{name: _unquote(value) for name, value in row.items()} for row in csv.DictReader(f)]


def check_file(path: str, partial: bool = False) -> tuple[Walk, int]:
    """(the walk over the file's chained rows in chain order, how many rows are not chained yet)."""
    rows = read_file(path)
    chained = sorted((r for r in rows if r.get("chain_seq") not in (None, "")), key=lambda r: int(r["chain_seq"]))
    walk = Walk(contiguous=not partial)
    for row in chained:
        walk.feed(row)
    return walk, len(rows) - len(chained)


def report(walk: Walk, open_rows: int) -> str:
    lines = [f"{walk.checked} chained rows checked, {open_rows} not chained yet (outcome unknown)"]
    if walk.gaps:
        lines.append(f"{walk.gaps} gaps in the chain numbers: rows not in this file (a filtered export has "
                     f"gaps; a full export has none)")
    lines.append(f"BROKEN at {walk.first_break}" if walk.first_break else
                 f"chain holds; last chain #{walk.last_seq}, hash {walk.last_hash}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    partial = "--partial" in argv
    paths = [arg for arg in argv if arg != "--partial"]
    if len(paths) != 1:
        print("usage: python3 audit_hash.py [--partial] EXPORT.csv|EXPORT.json", file=sys.stderr)
        return 2
    walk, open_rows = check_file(paths[0], partial)
    print(report(walk, open_rows))
    return 1 if walk.first_break else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
