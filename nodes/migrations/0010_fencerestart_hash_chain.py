"""The audit's hash chain (nodes/audit_chain.py): chain fields, the check's
record, the rows already final chained in the order they finished, and the
append-only triggers made again so that they also guard the chain fields."""
from importlib import import_module

from django.conf import settings
from django.db import migrations, models

from nodes import audit_chain, audit_triggers

_vendor_sql = import_module("nodes.migrations.0004_fencerestart_cluster_name_and_triggers")  # its RunSQLOn


def chain_existing_rows(apps, schema_editor):
    """In the order they finished."""
    audit_chain.chain_existing(apps.get_model("nodes", "FenceRestart"), schema_editor.connection.alias,
                               audit_chain.FENCE, ["finished_at", "id"])


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0009_fencerestart_write_ahead_outcomes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        _vendor_sql.RunSQLOn("sqlite", audit_triggers.SQLITE_DROP, audit_triggers.SQLITE_CREATE_V1),
        _vendor_sql.RunSQLOn("postgresql", audit_triggers.POSTGRESQL_DROP, audit_triggers.POSTGRESQL_CREATE_V1),
        migrations.CreateModel(
            name='AuditChainCheck',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('verified_seq', models.BigIntegerField(default=0, help_text='Chain rows 1..this were found intact.')),
                ('verified_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                ('checked_at', models.DateTimeField(blank=True, null=True)),
                ('full_check_at', models.DateTimeField(blank=True, help_text='Last manage.py verify_audit.', null=True)),
                ('broken_row_id', models.BigIntegerField(blank=True, null=True)),
                ('broken_seq', models.BigIntegerField(blank=True, null=True)),
                ('problem', models.TextField(blank=True, help_text='The first break found; empty while the chain holds.')),
                ('found_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'audit chain check',
            },
        ),
        migrations.AddField(
            model_name='fencerestart',
            name='chain_seq',
            field=models.BigIntegerField(blank=True, editable=False, help_text="Position in the audit's hash chain (1, 2, 3, ... with no gaps).", null=True),
        ),
        migrations.AddField(
            model_name='fencerestart',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='fencerestart',
            name='row_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name='fencerestart',
            index=models.Index(condition=models.Q(('chain_seq__isnull', True), ('finished_at__isnull', False)), fields=['id'], name='fencerestart_unchained'),
        ),
        migrations.AddConstraint(
            model_name='fencerestart',
            constraint=models.UniqueConstraint(condition=models.Q(('chain_seq__isnull', False)), fields=('chain_seq',), name='fencerestart_chain_seq_unique'),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        _vendor_sql.RunSQLOn("sqlite", audit_triggers.SQLITE_CREATE, audit_triggers.SQLITE_DROP),
        _vendor_sql.RunSQLOn("postgresql", audit_triggers.POSTGRESQL_CREATE, audit_triggers.POSTGRESQL_DROP),
    ]
