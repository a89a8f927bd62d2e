"""The rollout events' hash chain (nodes/audit_chain.py ROLLOUT_EVENTS):
chain fields, the existing rows chained in the order they were written (id), and
the append-only triggers made again so that they also guard the chain fields
(written once)."""
from importlib import import_module

from django.db import migrations, models

from images import rollout_event_triggers as triggers
from nodes import audit_chain

_vendor_sql = import_module("nodes.migrations.0004_fencerestart_cluster_name_and_triggers")  # its RunSQLOn


# Per vendor: (drop, the triggers before this migration, the ones guarding the chain fields too).
TRIGGERS = {"sqlite": (triggers.SQLITE_DROP, triggers.SQLITE_CREATE_V1, triggers.SQLITE_CREATE),
            "postgresql": (triggers.POSTGRESQL_DROP, triggers.POSTGRESQL_CREATE_V1, triggers.POSTGRESQL_CREATE)}
# As on the model: set once, in the transaction that writes the row.
CHAIN_FIELDS = [
    ('chain_seq', models.BigIntegerField(blank=True, editable=False, help_text="Position in the rollout events' hash chain (1, 2, 3, ... no gaps).", null=True)),
    ('prev_hash', models.CharField(blank=True, editable=False, max_length=64, null=True)),
    ('row_hash', models.CharField(blank=True, editable=False, max_length=64, null=True)),
]


def chain_existing_rows(apps, schema_editor):
    """In the order they were written."""
    audit_chain.chain_existing(apps.get_model("images", "RolloutEvent"), schema_editor.connection.alias,
                               audit_chain.ROLLOUT_EVENTS, ["id"])


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0012_rolloutevent_cancel_requested'),
    ]

    operations = [
        # Off while the columns change (a table rebuilt on SQLite loses them), then made again.
        *(_vendor_sql.RunSQLOn(vendor, drop, before) for vendor, (drop, before, _) in TRIGGERS.items()),
        *(migrations.AddField(model_name='rolloutevent', name=name, field=field) for name, field in CHAIN_FIELDS),
        migrations.AddIndex(
            model_name='rolloutevent',
            index=models.Index(condition=models.Q(('chain_seq__isnull', True)), fields=['id'], name='rolloutevent_unchained'),
        ),
        migrations.AddConstraint(
            model_name='rolloutevent',
            constraint=models.UniqueConstraint(condition=models.Q(('chain_seq__isnull', False)), fields=('chain_seq',), name='rolloutevent_chain_seq_unique'),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        *(_vendor_sql.RunSQLOn(vendor, after, drop) for vendor, (drop, _, after) in TRIGGERS.items()),
    ]
