# Pause and manual gates (images/rollouts/pause.py, manual_gate.py): the
# strategy's manual_gate, the paused flag, what was pressed at the gate, and
# the awaiting_gate status, which holds the cluster's one in-progress slot
# (so the unique constraint is redrawn with it).
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0009_rollout_approval_and_windows'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='rollout',
            name='one_unfinished_rollout_per_cluster',
        ),
        migrations.AddField(
            model_name='rollout',
            name='gate_decision',
            field=models.CharField(blank=True, choices=[('continue', 'continue'), ('rollback', 'roll back')], max_length=8),
        ),
        migrations.AddField(
            model_name='rollout',
            name='manual_gate',
            field=models.BooleanField(default=False, help_text='After the canaries, wait for Continue or Roll back.'),
        ),
        migrations.AddField(
            model_name='rollout',
            name='paused',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='rollout',
            name='status',
            field=models.CharField(choices=[('awaiting_approval', 'awaiting approval'), ('waiting_for_window', 'waiting for its maintenance window'), ('planned', 'planned'), ('distributing', 'distributing'), ('activating', 'activating'), ('awaiting_gate', 'awaiting gate (Continue or Roll back)'), ('rolling_back', 'rolling back'), ('succeeded', 'succeeded'), ('failed', 'failed'), ('rolled_back', 'rolled back'), ('cancelled', 'cancelled'), ('errored', 'errored')], db_index=True, default='planned', max_length=24),
        ),
        migrations.AddConstraint(
            model_name='rollout',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ('awaiting_approval', 'waiting_for_window', 'planned', 'distributing', 'activating', 'rolling_back', 'awaiting_gate'))), fields=('cluster',), name='one_unfinished_rollout_per_cluster', violation_error_message='This cluster already has a rollout in progress.'),
        ),
    ]
