"""The rollout events' hash chain (nodes/audit_chain.py ROLLOUT_EVENTS):
chain fields, the existing rows chained in the order they were written (id), and
the append-only triggers made again so that they also guard the chain fields
(written once)."""
from importlib import import_module

from django.conf import settings
from django.db import migrations, models

from images import rollout_event_triggers as triggers
from nodes import audit_chain

_vendor_sql = import_module("nodes.migrations.0004_fencerestart_cluster_name_and_triggers")  # its RunSQLOn


def chain_existing_rows(apps, schema_editor):
    RolloutEvent = apps.get_model("images", "RolloutEvent")
    using = schema_editor.connection.alias
    unchained = (RolloutEvent._base_manager.db_manager(using).filter(chain_seq__isnull=True)
                 .order_by("id").values_list("id", flat=True))
    for pk in unchained.iterator(chunk_size=2000):
        audit_chain.chain(RolloutEvent, pk, using, audit_chain.ROLLOUT_EVENTS)


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0012_rolloutevent_cancel_requested'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        _vendor_sql.RunSQLOn("sqlite", triggers.SQLITE_DROP, triggers.SQLITE_CREATE_V1),
        _vendor_sql.RunSQLOn("postgresql", triggers.POSTGRESQL_DROP, triggers.POSTGRESQL_CREATE_V1),
        migrations.AddField(
            model_name='rolloutevent',
            name='chain_seq',
            field=models.BigIntegerField(blank=True, editable=False, help_text="Position in the rollout events' hash chain (1, 2, 3, ... no gaps).", null=True),
        ),
        migrations.AddField(
            model_name='rolloutevent',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='rolloutevent',
            name='row_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name='rolloutevent',
            index=models.Index(condition=models.Q(('chain_seq__isnull', True)), fields=['id'], name='rolloutevent_unchained'),
        ),
        migrations.AddConstraint(
            model_name='rolloutevent',
            constraint=models.UniqueConstraint(condition=models.Q(('chain_seq__isnull', False)), fields=('chain_seq',), name='rolloutevent_chain_seq_unique'),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        _vendor_sql.RunSQLOn("sqlite", triggers.SQLITE_CREATE, triggers.SQLITE_DROP),
        _vendor_sql.RunSQLOn("postgresql", triggers.POSTGRESQL_CREATE, triggers.POSTGRESQL_DROP),
    ]
