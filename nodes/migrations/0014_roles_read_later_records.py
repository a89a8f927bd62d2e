"""Every role reads the records added after the roles migration (0003) that
no later migration granted: the audit hash chain's check, promotions,
registry provisioning runs, the job rows, and the notification settings and
their delivery log. None of them holds a secret: a webhook stores its URL
only when that URL carries no login (a URL with a token stays in an
environment variable, as does the signing secret; notifications/models.py),
and job rows and logs never carry secrets.

Not granted, on purpose (tests/unit/nodes/test_every_record_has_a_reader.py
lists each with its reason): API tokens (the console shows each user their
own whatever their role, api/token_admin.py; everyone's only to whoever may
revoke them) and knox's token rows (digests of every user's tokens)."""
from django.db import migrations

from nodes import role_grants

VIEW = ["nodes.view_auditchaincheck", "images.view_promotion", "images.view_registryprovisioning",
        "job_runs.view_jobrun", "notifications.view_webhook", "notifications.view_mailnotification",
        "notifications.view_delivery"]
GRANTS = {"Viewer": VIEW, "Operator": VIEW, "Release manager": VIEW}


class Migration(migrations.Migration):

    dependencies = [
        ("nodes", "0013_cluster_config_read"),
        ("images", "0014_rolloutstep_fence_seen_at"),
        ("job_runs", "0002_jobrun_process"),
        ("notifications", "0004_webhook_url_from_environment"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(lambda apps, schema_editor: role_grants.grant(apps, GRANTS),
                             lambda apps, schema_editor: role_grants.revoke(apps, GRANTS)),
    ]
