# Placeholder made by the lead so parallel work gets a linear migration history;
# its owner replaces the operations (and this comment).
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('nodes', '0010_fencerestart_hash_chain'),
    ]

    operations = []
