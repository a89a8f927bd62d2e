"""At most one queued or running promotion of a version to a cluster
(images/models/promotion.py). A database that already has two (the race
this closes) keeps the oldest; the later ones end errored, saying why."""
from django.db import migrations, models
from django.utils import timezone

UNFINISHED = ("queued", "running")


def end_duplicates(apps, schema_editor):
    Promotion = apps.get_model("images", "Promotion")
    seen = set()
    for row in Promotion.objects.filter(status__in=UNFINISHED).order_by("created_at"):
        key = (row.source_id, row.target_cluster_id)
        if key in seen:
            Promotion.objects.filter(pk=row.pk).update(
                status="errored", finished_at=timezone.now(),
                status_reason="Ended by migration images 0015: an earlier promotion of this version to this "
                              "cluster was already queued or running.")
        seen.add(key)


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0014_rolloutstep_fence_seen_at'),
    ]

    operations = [
        migrations.RunPython(end_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='promotion',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ('queued', 'running'))), fields=('source', 'target_cluster'), name='one_unfinished_promotion_per_version_and_cluster'),
        ),
    ]
