# Placeholder made by the lead so parallel work gets a linear migration history;
# its owner replaces the operations (and this comment).
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('images', '0010_rollout_pause_and_gate'),
    ]

    operations = []
