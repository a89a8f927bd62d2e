"""Triggers that keep images_rolloutevent append-only below the ORM (as
nodes/audit_triggers.py does for fence restarts): UPDATE and DELETE are
refused from any SQL client, except

- Django's SET_NULL when a user is deleted (user_id becomes NULL, nothing
  else changes; the copied username stays);
- chaining a row once: chain_seq, prev_hash and row_hash go from NULL to
  values, nothing else changes (nodes/audit_chain.py ROLLOUT_EVENTS). Once
  set they never change: no rule lets them.

Created by migration 0009 (the *_V1 lists, kept as they were), made again
with the chain fields by migration 0013 (SQLite and PostgreSQL)."""
from nodes import audit_triggers

TABLE = "images_rolloutevent"
FIXED = ["id", "rollout_id", "kind", "username", "at", "reason"]
CHAIN = ["chain_seq", "prev_hash", "row_hash"]
MESSAGE = "rollout event history is append-only"


def _same(columns, equal: str) -> str:
    return " AND ".join(f"NEW.{c} {equal} OLD.{c}" for c in columns)


def _user_deleted(equal: str, chain: list) -> str:
    return "NEW.user_id IS NULL AND " + _same(FIXED + chain, equal)


def _chaining(equal: str) -> str:
    return (" AND ".join(f"OLD.{c} IS NULL AND NEW.{c} IS NOT NULL" for c in CHAIN)
            + " AND " + _same(FIXED + ["user_id"], equal))


def _allowed(equal: str, chain: list) -> str:
    rules = [_user_deleted(equal, chain)] + ([_chaining(equal)] if chain else [])
    return " OR ".join(f"({rule})" for rule in rules)


def _sqlite_create(chain: list) -> list[str]:
    return audit_triggers.sqlite_triggers(TABLE, MESSAGE, _allowed("IS", chain), "rows cannot be updated")


def _postgresql_create(chain: list) -> list[str]:
    return audit_triggers.postgresql_triggers(TABLE, MESSAGE, _allowed("IS NOT DISTINCT FROM", chain),
                                              "rows cannot be updated")


SQLITE_CREATE_V1 = _sqlite_create([])
SQLITE_CREATE = _sqlite_create(CHAIN)
SQLITE_DROP = audit_triggers.sqlite_drop(TABLE)

POSTGRESQL_CREATE_V1 = _postgresql_create([])
POSTGRESQL_CREATE = _postgresql_create(CHAIN)
POSTGRESQL_DROP = audit_triggers.postgresql_drop(TABLE)
