"""Governance per cluster: protected (two-person approval), how long an
approval request lives, and weekly maintenance windows in the cluster's
timezone (images/rollouts/approval.py, windows.py). Every role sees the
windows; the Operator, who edits clusters, edits their windows too.
Approving needs no new permission: it is the Release manager's
images.activate_rollout (checked in images/rollouts/approval.py)."""
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import nodes.maintenance_windows
from nodes import role_grants

VIEW = ["nodes.view_maintenancewindow"]
GRANTS = {"Viewer": VIEW, "Release manager": VIEW,
          "Operator": VIEW + ["nodes.add_maintenancewindow", "nodes.change_maintenancewindow",
                              "nodes.delete_maintenancewindow"]}


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0011_cluster_config_changed_at'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AddField(
            model_name='cluster',
            name='approval_expiry_minutes',
            field=models.PositiveIntegerField(default=240, help_text='An approval request not answered within this time expires and the rollout ends.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10080)]),
        ),
        migrations.AddField(
            model_name='cluster',
            name='protected',
            field=models.BooleanField(default=False, help_text="Every rollout, rollback and undo waits for a second Release manager's approval."),
        ),
        migrations.AddField(
            model_name='cluster',
            name='windows_timezone',
            field=models.CharField(default='UTC', help_text="IANA timezone of the maintenance windows' times (e.g. Europe/Berlin).", max_length=64, validators=[nodes.maintenance_windows.validate_timezone]),
        ),
        migrations.CreateModel(
            name='MaintenanceWindow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], validators=[django.core.validators.MaxValueValidator(6)])),
                ('start', models.TimeField(help_text="Wall-clock time in the cluster's windows timezone.")),
                ('minutes', models.PositiveIntegerField(help_text='May run over midnight (e.g. 23:00 for 180 minutes ends at 02:00 the next day).', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10080)], verbose_name='duration (minutes)')),
                ('cluster', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='maintenance_windows', to='nodes.cluster')),
            ],
            options={
                'ordering': ['cluster', 'weekday', 'start'],
            },
        ),
        migrations.RunPython(lambda apps, schema_editor: role_grants.grant(apps, GRANTS),
                             lambda apps, schema_editor: role_grants.revoke(apps, GRANTS)),
    ]
