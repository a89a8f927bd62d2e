"""The database locked while a step writes (fault matrix, docs/operations.md):
another connection holds SQLite's write lock on the test database file, and
the workers started for it wait at most a short busy timeout.

A worker waits settings' 30 s busy timeout per write and the job lifecycle
tries a write 5 times (job_runs/lifecycle.py), so with the real timeout a
worker gives up after about 2.5 min. The workers of this test run with a
1 s busy timeout instead (support.short_busy_timeout_settings): the same
code path, the same "database is locked", in seconds."""
import contextlib
import sqlite3

from django.db import connection

from support.held_job import worker_env

SETTINGS = "support.short_busy_timeout_settings"


def short_timeout_worker_env() -> dict:
    """For start_worker(): the test's settings with a 1 s busy timeout."""
    return {**worker_env(), "DJANGO_SETTINGS_MODULE": SETTINGS}


@contextlib.contextmanager
def write_lock():
    """BEGIN EXCLUSIVE on the test database from a connection of its own,
    held until the block ends. In WAL mode readers go on (the test reads
    the rows); every writer waits, then fails with "database is locked"."""
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield holder
        holder.execute("ROLLBACK")
    finally:
        holder.close()
