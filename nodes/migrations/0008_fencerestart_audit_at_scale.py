"""The fence restart audit with a million rows (issue 11): the user and
outcome filters get (column, -started_at) indexes, and the search box gets a
trigram index per searched column (nodes/audit_search.py): pg_trgm GIN
indexes on PostgreSQL, an FTS5 trigram table kept by an INSERT trigger on SQLite.

CREATE EXTENSION needs a superuser, or (PostgreSQL 13+, where pg_trgm is a
trusted extension) the owner of the database. Where the console's role is
neither, a superuser runs `CREATE EXTENSION pg_trgm;` in its database once
before migrating; IF NOT EXISTS then makes this step a no-op.
"""
from django.db import migrations, models

from nodes import audit_search

STATEMENTS = {
    "postgresql": (audit_search.POSTGRESQL_CREATE, audit_search.POSTGRESQL_DROP),
    "sqlite": (audit_search.SQLITE_CREATE, audit_search.SQLITE_DROP),
}


def create_search_indexes(apps, schema_editor):
    for statement in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[0]:
        schema_editor.execute(statement)


def drop_search_indexes(apps, schema_editor):
    for statement in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0007_node_drift_image_differs'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='fencerestart',
            name='fencerestart_username',
        ),
        migrations.AddIndex(
            model_name='fencerestart',
            index=models.Index(fields=['requested_by_username', '-started_at'], name='fencerestart_username_time'),
        ),
        migrations.AddIndex(
            model_name='fencerestart',
            index=models.Index(fields=['outcome', '-started_at'], name='fencerestart_outcome_time'),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
