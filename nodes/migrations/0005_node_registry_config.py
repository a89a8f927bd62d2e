from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("nodes", "0004_fencerestart_cluster_name_and_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="node",
            name="registry_config",
            field=models.JSONField(blank=True, editable=False, help_text="`docker info` RegistryConfig at the last refresh: which registries its engine may pull from over plain HTTP (images/registry_trust.py).", null=True),
        ),
    ]
