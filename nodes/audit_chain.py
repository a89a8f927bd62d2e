"""Chaining fence restart rows as their outcome becomes final, and checking
the chain in the database (the hash itself: nodes/audit_hash.py).

A row is chained in the same transaction that makes it final (complete(), or
the insert of a row written complete): under a lock it takes the chain head's
sequence number + 1 and its hash as prev_hash. The lock: on SQLite the write
lock every transaction takes at BEGIN (settings: transaction_mode IMMEDIATE);
on PostgreSQL a transaction-scoped advisory lock. A partial unique index on
chain_seq refuses two rows with one number whatever happens.

Two chains, each with its own sequence, lock and check record (a ChainSpec):
fence restarts (final when finished_at is set) and rollout events (images
RolloutEvent, final when written, chained in the transaction that inserts it).

The model is passed in (not imported) so the migrations that chain existing
rows can use their historical models."""
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from nodes.audit_hash import GENESIS, HASHED, ROLLOUT_EVENT_HASHED, Break, Walk, row_hash

# pg_advisory_xact_lock key: any constant no other code uses ("audit chain" in ASCII, truncated).
ADVISORY_KEY = 0x617564697463


@dataclass(frozen=True, eq=False)  # hashed by identity: a key of audit_verify.MODELS
class ChainSpec:
    label: str
    hashed: list
    final_field: str | None  # set when the row is final; None: final when written
    advisory_key: int
    check_pk: int  # its AuditChainCheck row

    @property
    def read(self) -> list:
        return [*self.hashed, "row_hash"]

    def final(self) -> dict:
        return {f"{self.final_field}__isnull": False} if self.final_field else {}


FENCE = ChainSpec("fence restarts", HASHED, "finished_at", ADVISORY_KEY, 1)
ROLLOUT_EVENTS = ChainSpec("rollout events", ROLLOUT_EVENT_HASHED, None, ADVISORY_KEY + 1, 2)
READ = FENCE.read
CHAINS = (FENCE, ROLLOUT_EVENTS)


def lock(using: str = "default", spec: ChainSpec = FENCE) -> None:
    """On PostgreSQL, the chain's advisory lock and, first, those of the chains
    before it (by key). A transaction may chain rows of both chains (a restart
    and a rollout event): taken in one order everywhere, two such transactions
    queue instead of deadlocking (PostgreSQL would abort one, failing its step).
    The locks are re-entrant within a transaction."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for key in sorted(chain.advisory_key for chain in CHAINS if chain.advisory_key <= spec.advisory_key):
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def head(model, using: str = "default") -> tuple[int, str]:
    """(sequence number, hash) of the last chained row; (0, GENESIS) before the first."""
    last = (model._base_manager.db_manager(using).filter(chain_seq__isnull=False).order_by("-chain_seq")
            .values_list("chain_seq", "row_hash").first())
    return last or (0, GENESIS)


def chain(model, pk, using: str = "default", spec: ChainSpec = FENCE) -> dict:
    """Chain row pk if it is final and not chained yet; returns its chain fields.
    Call inside transaction.atomic()."""
    lock(using, spec)
    rows = model._base_manager.db_manager(using).filter(pk=pk)
    values = rows.values(*spec.read, *([spec.final_field] if spec.final_field else [])).get()
    if (spec.final_field and values[spec.final_field] is None) or values["chain_seq"] is not None:
        return {name: values[name] for name in ("chain_seq", "prev_hash", "row_hash")}
    seq, previous = head(model, using)
    values.update(chain_seq=seq + 1, prev_hash=previous)
    fields = {"chain_seq": seq + 1, "prev_hash": previous, "row_hash": row_hash(values, spec.hashed)}
    # The plain QuerySet's update: the append-only one refuses every update;
    # the triggers allow setting the chain fields of a final row once.
    QuerySet.update(rows.filter(chain_seq__isnull=True), **fields)
    return fields


def chain_existing(model, using: str, spec: ChainSpec, order: list[str]) -> None:
    """Chain every final row not chained yet, in `order`: the migrations that
    add a chain (historical models) run this once."""
    unchained = (model._base_manager.db_manager(using).filter(chain_seq__isnull=True, **spec.final())
                 .order_by(*order).values_list("id", flat=True))
    for pk in unchained.iterator(chunk_size=2000):
        chain(model, pk, using, spec)


def unchained_final(model, spec: ChainSpec = FENCE):
    """A final row without a hash: inserted or completed behind the console's
    back (SQL), or by a client that bypassed the chain. Served by a partial index."""
    row_id = (model._base_manager.filter(chain_seq__isnull=True, **spec.final())
              .order_by("id").values_list("id", flat=True).first())
    if row_id is None:
        return None
    final = "final outcome but not in the chain" if spec.final_field else "not in the chain"
    return Break(None, row_id, f"{final} (written outside the console, or edited)")


def walk_database(model, start_seq: int = 0, start_hash: str = GENESIS, limit: int | None = None,
                  spec: ChainSpec = FENCE) -> Walk:
    """Check the chained rows after start_seq in order (at most `limit`)."""
    walk = Walk(last_seq=start_seq, last_hash=start_hash, hashed=spec.hashed)
    rows = model._base_manager.filter(chain_seq__gt=start_seq).order_by("chain_seq").values(*spec.read)
    rows = rows[:limit] if limit else rows.iterator(chunk_size=2000)
    for row in rows:
        if walk.feed(row):
            break
    return walk


__all__ = ["ChainSpec", "FENCE", "ROLLOUT_EVENTS", "lock", "head", "chain", "chain_existing", "unchained_final", "walk_database", "GENESIS"]
