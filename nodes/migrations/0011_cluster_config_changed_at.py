"""The cluster config's history (nodes/config_history.py): which image it
named from when, so drift can tell what a fence read when it started. An
existing cluster starts with its one known value and moment, which keeps
the drift it showed before."""
from django.db import migrations, models


def seed_history(apps, schema_editor):
    Cluster = apps.get_model("nodes", "Cluster")
    for cluster in Cluster.objects.exclude(desired_image=""):
        since = cluster.desired_image_since.isoformat() if cluster.desired_image_since else None
        cluster.desired_image_history = [{"image": cluster.desired_image, "since": since}]
        cluster.save(update_fields=["desired_image_history"])


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0010_fencerestart_hash_chain'),
    ]

    operations = [
        migrations.AddField(
            model_name='cluster',
            name='desired_image_history',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(seed_history, migrations.RunPython.noop),
    ]
