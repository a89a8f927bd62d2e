"""Triggers that keep images_rolloutevent append-only below the ORM (as
nodes/audit_triggers.py does for fence restarts): UPDATE and DELETE are
refused from any SQL client, except Django's SET_NULL when a user is
deleted (user_id becomes NULL, nothing else changes; the copied username
stays). Created by migration 0009 (SQLite and PostgreSQL)."""

TABLE = "images_rolloutevent"
FIXED = ["id", "rollout_id", "kind", "username", "at", "reason"]
MESSAGE = "rollout event history is append-only"


def _user_deleted(equal: str) -> str:
    return "NEW.user_id IS NULL AND " + " AND ".join(f"NEW.{c} {equal} OLD.{c}" for c in FIXED)


SQLITE_CREATE = [
    (f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
     f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: rows cannot be deleted'); END"),
    (f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} WHEN NOT ({_user_deleted('IS')}) "
     f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: rows cannot be updated'); END"),
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_no_delete", f"DROP TRIGGER IF EXISTS {TABLE}_no_update"]

POSTGRESQL_CREATE = [
    f"""CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{MESSAGE}: rows cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF {_user_deleted('IS NOT DISTINCT FROM')} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}: rows cannot be updated' USING ERRCODE = 'integrity_constraint_violation';
END
$$""",
    (f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
     f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()"),
]
POSTGRESQL_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
                   f"DROP FUNCTION IF EXISTS {TABLE}_append_only()"]
