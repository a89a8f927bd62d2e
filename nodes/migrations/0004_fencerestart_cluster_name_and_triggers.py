"""The audit copies the cluster's name (old rows get the name they have now),
_base_manager is the append-only queryset, and triggers refuse UPDATE and
DELETE in SQL on SQLite and PostgreSQL (nodes/audit_triggers.py)."""
from django.db import migrations, models

from nodes import audit_triggers


def copy_cluster_names(apps, schema_editor):
    Cluster = apps.get_model("nodes", "Cluster")
    FenceRestart = apps.get_model("nodes", "FenceRestart")  # plain manager here: before the triggers
    for cluster_id, name in Cluster.objects.values_list("id", "name"):
        FenceRestart.objects.filter(cluster_id=cluster_id, cluster_name="").update(cluster_name=name)


class RunSQLOn(migrations.RunSQL):
    """RunSQL for one database vendor only (trigger syntax differs)."""

    def __init__(self, vendor, sql, reverse_sql):
        super().__init__(sql, reverse_sql)
        self.vendor = vendor

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0003_roles'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='fencerestart',
            options={'base_manager_name': 'objects', 'get_latest_by': 'started_at', 'ordering': ['-started_at', '-id']},
        ),
        migrations.AddField(
            model_name='fencerestart',
            name='cluster_name',
            field=models.CharField(blank=True, help_text='Copied: renaming the cluster does not rewrite its history.', max_length=100),
        ),
        migrations.RunPython(copy_cluster_names, migrations.RunPython.noop),
        RunSQLOn("sqlite", audit_triggers.SQLITE_CREATE_V1, audit_triggers.SQLITE_DROP),
        RunSQLOn("postgresql", audit_triggers.POSTGRESQL_CREATE_V1, audit_triggers.POSTGRESQL_DROP),
    ]
