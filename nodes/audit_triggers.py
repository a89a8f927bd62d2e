"""Database triggers that keep the fence restart history append-only below
the ORM: an UPDATE or DELETE from any SQL client is refused, except

- completing an open row once: a row written ahead with finished_at NULL
  (outcome '') gets its outcome, finished_at, exit_code and output_excerpt,
  nothing else changes, and from then on the row is closed;
- Django's SET_NULL when a user is deleted: requested_by_id becomes NULL and
  nothing else changes (requested_by_username keeps the name);
- chaining a final row once: chain_seq, prev_hash and row_hash go from NULL
  to values, nothing else changes (nodes/audit_chain.py). Once set they never
  change: no rule above lets them.

Created by migration 0004 (RunSQL per vendor), made again with the chain
fields by migration 0010 (the *_V1 lists are 0004's, kept as they were). A table owner can still drop
the triggers or TRUNCATE (PostgreSQL): run the console with a role that does
not own the table where that matters (docs/security.md).
"""

TABLE = "nodes_fencerestart"
# Never changed by anything once written.
FIXED = ["id", "node_id", "cluster_id", "cluster_name", "node_address", "started_at", "requested_by_username",
         "image_before", "image_after", "correlation_id", "reason"]
COMPLETION = ["outcome", "finished_at", "exit_code", "output_excerpt"]
CHAIN = ["chain_seq", "prev_hash", "row_hash"]
MESSAGE = "fence restart history is append-only"
REFUSED = "only an open row''s outcome can be set, once"


def _same(columns, equal: str) -> str:
    return " AND ".join(f"NEW.{c} {equal} OLD.{c}" for c in columns)


def _completing(equal: str, chain: list) -> str:
    return (f"OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL AND NEW.outcome <> '' "
            f"AND {_same(FIXED + chain + ['requested_by_id'], equal)}")


def _user_deleted(equal: str, chain: list) -> str:
    return f"NEW.requested_by_id IS NULL AND {_same(FIXED + COMPLETION + chain, equal)}"


def _chaining(equal: str) -> str:
    return (f"OLD.finished_at IS NOT NULL AND OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL "
            f"AND OLD.row_hash IS NULL AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL "
            f"AND NEW.row_hash IS NOT NULL AND {_same(FIXED + COMPLETION + ['requested_by_id'], equal)}")


def _allowed(equal: str, chain: list) -> str:
    rules = [_completing(equal, chain), _user_deleted(equal, chain)] + ([_chaining(equal)] if chain else [])
    return " OR ".join(f"({rule})" for rule in rules)


def sqlite_triggers(table: str, message: str, allowed: str, refused: str) -> list[str]:
    """DELETE refused; UPDATE refused unless `allowed` (SQL over NEW and OLD) holds.
    Shared with images/rollout_event_triggers.py."""
    return [
        (f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
         f"BEGIN SELECT RAISE(ABORT, '{message}: rows cannot be deleted'); END"),
        (f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
         f"WHEN NOT ({allowed}) "
         f"BEGIN SELECT RAISE(ABORT, '{message}: {refused}'); END"),
    ]


def sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_delete", f"DROP TRIGGER IF EXISTS {table}_no_update"]


def _sqlite_create(chain: list) -> list[str]:
    return sqlite_triggers(TABLE, MESSAGE, _allowed("IS", chain), REFUSED)


SQLITE_CREATE_V1 = _sqlite_create([])
SQLITE_CREATE = _sqlite_create(CHAIN)
SQLITE_DROP = sqlite_drop(TABLE)


def postgresql_triggers(table: str, message: str, allowed: str, refused: str) -> list[str]:
    """As sqlite_triggers(), in PL/pgSQL."""
    return [
        f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{message}: rows cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF {allowed} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{message}: {refused}'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
        (f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
         f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"),
    ]


def postgresql_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", f"DROP FUNCTION IF EXISTS {table}_append_only()"]


def _postgresql_create(chain: list) -> list[str]:
    return postgresql_triggers(TABLE, MESSAGE, _allowed("IS NOT DISTINCT FROM", chain), REFUSED)


POSTGRESQL_CREATE_V1 = _postgresql_create([])
POSTGRESQL_CREATE = _postgresql_create(CHAIN)
POSTGRESQL_DROP = postgresql_drop(TABLE)

CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def create(schema_editor) -> None:
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def drop(schema_editor) -> None:
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)
