"""Chaining fence restart rows as their outcome becomes final, and checking
the chain in the database (the hash itself: nodes/audit_hash.py).

A row is chained in the same transaction that makes it final (complete(), or
the insert of a row written complete): under a lock it takes the chain head's
sequence number + 1 and its hash as prev_hash. The lock: on SQLite the write
lock every transaction takes at BEGIN (settings: transaction_mode IMMEDIATE);
on PostgreSQL a transaction-scoped advisory lock. A partial unique index on
chain_seq refuses two rows with one number whatever happens.

The model is passed in (not imported) so the migration that chains existing
rows can use its historical model."""
from django.db import connections
from django.db.models import QuerySet

from nodes.audit_hash import GENESIS, HASHED, Break, Walk, row_hash

# pg_advisory_xact_lock key: any constant no other code uses ("audit chain" in ASCII, truncated).
ADVISORY_KEY = 0x617564697463
READ = [*HASHED, "row_hash"]


def lock(using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])


def head(model, using: str = "default") -> tuple[int, str]:
    """(sequence number, hash) of the last chained row; (0, GENESIS) before the first."""
    last = (model._base_manager.db_manager(using).filter(chain_seq__isnull=False).order_by("-chain_seq")
            .values_list("chain_seq", "row_hash").first())
    return last or (0, GENESIS)


def chain(model, pk, using: str = "default") -> dict:
    """Chain row pk if it is final and not chained yet; returns its chain fields.
    Call inside transaction.atomic()."""
    lock(using)
    rows = model._base_manager.db_manager(using).filter(pk=pk)
    values = rows.values(*READ).get()
    if values["finished_at"] is None or values["chain_seq"] is not None:
        return {name: values[name] for name in ("chain_seq", "prev_hash", "row_hash")}
    seq, previous = head(model, using)
    values.update(chain_seq=seq + 1, prev_hash=previous)
    fields = {"chain_seq": seq + 1, "prev_hash": previous, "row_hash": row_hash(values)}
    # The plain QuerySet's update: the append-only one refuses every update;
    # the triggers allow setting the chain fields of a final row once.
    QuerySet.update(rows.filter(chain_seq__isnull=True), **fields)
    return fields


def unchained_final(model):
    """A final row without a hash: inserted or completed behind the console's
    back (SQL), or by a client that bypassed the chain. Served by a partial index."""
    row_id = (model._base_manager.filter(finished_at__isnull=False, chain_seq__isnull=True)
              .order_by("id").values_list("id", flat=True).first())
    if row_id is None:
        return None
    return Break(None, row_id, "final outcome but not in the chain (written outside the console, or edited)")


def walk_database(model, start_seq: int = 0, start_hash: str = GENESIS, limit: int | None = None) -> Walk:
    """Check the chained rows after start_seq in order (at most `limit`)."""
    walk = Walk(last_seq=start_seq, last_hash=start_hash)
    rows = model._base_manager.filter(chain_seq__gt=start_seq).order_by("chain_seq").values(*READ)
    rows = rows[:limit] if limit else rows.iterator(chunk_size=2000)
    for row in rows:
        if walk.feed(row):
            break
    return walk


__all__ = ["lock", "head", "chain", "unchained_final", "walk_database", "GENESIS"]
