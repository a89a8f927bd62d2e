"""The database is ready for a pool of workers writing beside the web server."""
import sqlite3
import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite-specific settings")


@sqlite_only
def test_sqlite_runs_in_wal_mode():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@sqlite_only
def test_a_writer_waits_for_another_process_lock_instead_of_failing():
    # Another connection (as another worker process would) holds the write
    # lock for a moment; our write must wait for it, not raise "locked".
    other = sqlite3.connect(connection.settings_dict["NAME"], check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO auth_group (name) VALUES ('held by another worker')")
    released = threading.Event()

    def release_later():
        time.sleep(1.0)
        other.commit()
        released.set()

    threading.Thread(target=release_later).start()
    Group.objects.create(name="written after the wait")
    assert released.is_set()
    assert set(Group.objects.values_list("name", flat=True)) >= {"held by another worker", "written after the wait"}
    other.close()


def test_database_answers():
    Group.objects.create(name="ops")
    assert Group.objects.filter(name="ops").exists()
