# Promotion: an image version copied by digest from the cluster where it
# succeeded to another cluster's registry (images/promotion/).
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0010_rollout_pause_and_gate'),
        ('nodes', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Promotion',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('digest', models.CharField(help_text='The manifest digest copied; the target must serve it.', max_length=100)),
                ('source_reference', models.CharField(max_length=512)),
                ('target_reference', models.CharField(max_length=512)),
                ('requested_by_username', models.CharField(help_text='Copied: a deleted user keeps the record.', max_length=150)),
                ('status', models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('succeeded', 'succeeded'), ('failed', 'failed (ran and did not do its job)'), ('errored', 'errored (could not run)')], default='queued', max_length=16)),
                ('status_reason', models.TextField(blank=True)),
                ('log', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('source', models.ForeignKey(help_text='The version promoted: it succeeded on its own cluster.', on_delete=django.db.models.deletion.PROTECT, related_name='promotions', to='images.imageversion')),
                ('source_rollout', models.ForeignKey(blank=True, help_text='The succeeded rollout that qualified it.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='images.rollout')),
                ('target', models.OneToOneField(blank=True, help_text='The version on the target cluster, identified by the same digest.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='promoted_from', to='images.imageversion')),
                ('target_cluster', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotions_in', to='nodes.cluster')),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
    ]
