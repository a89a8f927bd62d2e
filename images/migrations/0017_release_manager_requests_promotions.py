"""The Release manager requests promotions: the admin's "Promote to
cluster…", POST /api/image-versions/{id}/promote/ and `manage.py image
promote` check the Promotion model's own images.add_promotion (they checked
images.activate_rollout, a rollout's). Every role already reads promotions
(images.view_promotion, nodes 0014). Nobody is given change or delete:
only the copy job writes a promotion after it is requested."""
from django.db import migrations

from nodes import role_grants

GRANTS = {"Release manager": ["images.add_promotion"]}


class Migration(migrations.Migration):

    dependencies = [
        ("images", "0016_rollout_left_out"),
        ("nodes", "0014_roles_read_later_records"),
    ]

    operations = [
        migrations.RunPython(lambda apps, schema_editor: role_grants.grant(apps, GRANTS),
                             lambda apps, schema_editor: role_grants.revoke(apps, GRANTS)),
    ]
