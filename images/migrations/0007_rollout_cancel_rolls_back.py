from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("images", "0006_rollout_created_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="rollout",
            name="cancel_rolls_back",
            field=models.BooleanField(default=False),
        ),
    ]
