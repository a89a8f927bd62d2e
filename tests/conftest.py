"""Suite-wide pytest hooks and fixtures."""
import os

import pytest
from django.db.backends.base.operations import BaseDatabaseOperations

from nodes import audit_triggers

# The rollout sandbox and worker fixtures, shared by tests/integration and tests/browser.
pytest_plugins = ["support.rollout_sandbox", "support.job_runs"]

_execute_sql_flush = BaseDatabaseOperations.execute_sql_flush


def _flush_past_audit_triggers(self, sql_list):
    """Transactional tests empty the test database after each test; on SQLite
    that is DELETE FROM, which the audit's triggers refuse (as they should in
    production). Only here, around the flush, they are dropped and put back.
    PostgreSQL empties with TRUNCATE, which the triggers do not cover."""
    if self.connection.vendor == "sqlite" and any(audit_triggers.TABLE in sql for sql in sql_list):
        sql_list = [*audit_triggers.SQLITE_DROP, *sql_list, *audit_triggers.SQLITE_CREATE]
    return _execute_sql_flush(self, sql_list)


BaseDatabaseOperations.execute_sql_flush = _flush_past_audit_triggers

DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server", "admin_client", "admin_user", "django_user_model"}


def pytest_collection_modifyitems(config, items):
    """With TEST_DATABASE_ONLY=1 (the second, PostgreSQL run of `make test`)
    keep only tests that use the database: the others (sandbox, SSH, kato)
    do not depend on it and already ran once on SQLite."""
    if os.environ.get("TEST_DATABASE_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        (keep if uses_db else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Logging in test users need not cost a real password hash each time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
