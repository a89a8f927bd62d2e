"""Two-person approval and maintenance windows: two statuses a rollout waits
in (holding its cluster's one in-progress slot), who approved it and until
when a request lives, and RolloutEvent, the append-only governance record
(triggers refuse UPDATE and DELETE in SQL: images/rollout_event_triggers.py)."""
from importlib import import_module

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from images import rollout_event_triggers as triggers
from nodes import role_grants

_vendor_sql = import_module("nodes.migrations.0004_fencerestart_cluster_name_and_triggers")  # its RunSQLOn

# Every role reads the governance record (auditors have the Viewer role).
GRANTS = {role: ["images.view_rolloutevent"] for role in ("Viewer", "Operator", "Release manager")}
UNFINISHED = ('awaiting_approval', 'waiting_for_window', 'planned', 'distributing', 'activating', 'rolling_back')


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0008_registry_provisioning_run_status'),
        ('nodes', '0012_cluster_protection_and_windows'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterField(
            model_name='rollout',
            name='status',
            field=models.CharField(choices=[('awaiting_approval', 'awaiting approval'), ('waiting_for_window', 'waiting for its maintenance window'), ('planned', 'planned'), ('distributing', 'distributing'), ('activating', 'activating'), ('rolling_back', 'rolling back'), ('succeeded', 'succeeded'), ('failed', 'failed'), ('rolled_back', 'rolled back'), ('cancelled', 'cancelled'), ('errored', 'errored')], db_index=True, default='planned', max_length=24),
        ),
        migrations.RemoveConstraint(
            model_name='rollout',
            name='one_unfinished_rollout_per_cluster',
        ),
        migrations.AddConstraint(
            model_name='rollout',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', UNFINISHED)), fields=('cluster',), name='one_unfinished_rollout_per_cluster', violation_error_message='This cluster already has a rollout in progress.'),
        ),
        migrations.AddField(
            model_name='rollout',
            name='approval_expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rollout',
            name='approved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='rollout',
            name='approved_by_username',
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.CreateModel(
            name='RolloutEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('approval_requested', 'approval requested'), ('approved', 'approved'), ('rejected', 'rejected'), ('approval_expired', 'approval expired'), ('window_waiting', 'waiting for a maintenance window'), ('window_opened', 'started: maintenance window open'), ('window_override', 'started outside its window (override)'), ('paused', 'paused'), ('resumed', 'resumed'), ('gate_waiting', 'waiting at a manual gate'), ('gate_continued', 'gate: continued'), ('gate_rolled_back', 'gate: rolled back')], max_length=24)),
                ('username', models.CharField(blank=True, help_text='Copied: a deleted user keeps their history.', max_length=150)),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('reason', models.TextField(blank=True)),
                ('rollout', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='images.rollout')),
                ('user', models.ForeignKey(blank=True, help_text='Empty when the console itself acted (expiry, a window).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-at', '-id'],
                'get_latest_by': 'at',
                'base_manager_name': 'objects',
                'indexes': [models.Index(fields=['rollout', 'at'], name='rolloutevent_rollout_at')],
            },
        ),
        _vendor_sql.RunSQLOn("sqlite", triggers.SQLITE_CREATE_V1, triggers.SQLITE_DROP),
        _vendor_sql.RunSQLOn("postgresql", triggers.POSTGRESQL_CREATE_V1, triggers.POSTGRESQL_DROP),
        migrations.RunPython(lambda apps, schema_editor: role_grants.grant(apps, GRANTS),
                             lambda apps, schema_editor: role_grants.revoke(apps, GRANTS)),
    ]
