"""Every model's view permission is either read by all three roles (Viewer
reads everything, and so do the Operator and the Release manager) or named
below with the reason it is not. A model added without a grant in a
migration (nodes/role_grants.py) fails the first test until someone decides.

Then, as a Viewer logged in to the console: the records nodes migration 0014
granted are readable on their pages, and what is denied is refused."""
import uuid

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from images.models import Promotion, RegistryProvisioning, Status
from job_runs.models import JobRun, RunStatus
from nodes.models import AuditChainCheck, Cluster
from notifications.models import Delivery, MailNotification, Webhook
from support import api_tokens
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db
ROLES = ["Viewer", "Operator", "Release manager"]

# "app_label.view_model": why no role reads it (an admin may still grant it by hand).
NOT_READ_BY_ROLES = {
    "api.view_apitoken": "API tokens: api/token_admin.py shows every staff user their own whatever their role; "
                         "everyone's only to whoever may revoke them (api.delete_apitoken)",
    "knox.view_authtoken": "knox's rows behind the API tokens (digests and key prefixes of every user's "
                           "tokens); its admin is replaced by the API tokens page",
    "auth.view_user": "accounts (e-mail, last login, staff and superuser flags, password hash summary): "
                      "the superuser's administration",
    "auth.view_group": "role administration, with the user accounts: the superuser's",
    "auth.view_permission": "role administration, with the user accounts: the superuser's",
    "admin.view_logentry": "the admin's change log, including account and token administration; each "
                           "record's own history page needs only that record's view permission",
    "sessions.view_session": "session keys are logins",
    "contenttypes.view_contenttype": "Django's bookkeeping, no page",
    "axes.view_accessattempt": "login attempts (typed usernames, addresses, browsers): the superuser's "
                               "security review",
    "axes.view_accessfailurelog": "login failures (typed usernames, addresses, browsers): the superuser's",
    "axes.view_accesslog": "logins and logouts of every user (addresses, browsers): the superuser's",
    "axes.view_accessattemptexpiration": "axes' bookkeeping of login attempts, no page",
}


def view_permissions() -> dict[str, type]:
    """"app_label.view_model" -> model, for every installed model that has one."""
    found = {}
    for model in apps.get_models():
        if "view" in model._meta.default_permissions:
            found[f"{model._meta.app_label}.{get_permission_codename('view', model._meta)}"] = model
    return found


def held(role: str) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in
            Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename")}


def test_every_view_permission_is_read_by_every_role_or_denied_with_a_reason():
    every = view_permissions()
    assert {"nodes.view_auditchaincheck", "notifications.view_delivery", "api.view_apitoken"} <= set(every)
    assert not set(NOT_READ_BY_ROLES) - set(every), "a denied permission that no longer exists: drop it"
    for role in ROLES:
        missing = set(every) - held(role) - set(NOT_READ_BY_ROLES)
        assert not missing, f"{role} cannot read {sorted(missing)}: grant it in a migration or deny it here"
        assert not held(role) & set(NOT_READ_BY_ROLES), role


@pytest.fixture
def viewer(client, django_user_model):
    user = django_user_model.objects.create_user("auditor", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(user)
    return user


@pytest.fixture
def records():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry="10.0.0.11:5000")
    version = draft_version(cluster, "1.0.0", status=Status.PUSHED, manifest_digest="sha256:" + "a" * 64)
    AuditChainCheck.objects.create(pk=1, verified_seq=7, problem="changed since it was verified (row edited)",
                                   broken_row_id=7, broken_seq=7, found_at=timezone.now())
    webhook = Webhook.objects.create(cluster=cluster, url="https://chat.example.test/hooks/releases",
                                     secret_env="HOOK_SECRET_PROD")
    return {
        "promotion": Promotion.objects.create(source=version, target_cluster=cluster, digest=version.manifest_digest,
                                              source_reference="a", target_reference="b",
                                              requested_by_username="releaser", log="copied by digest\n"),
        "provisioning": RegistryProvisioning.objects.create(cluster=cluster, image="registry:2",
                                                            requested_by_username="operator",
                                                            log="docker pull registry:2\n"),
        JobRun: JobRun.objects.create(rq_job_id="j1", func_name="images.jobs.build", object_id="1",
                                      description="Build 1.0.0 of prod", status=RunStatus.FAILED),
        Webhook: webhook,
        MailNotification: MailNotification.objects.create(cluster=cluster, addresses="ops@example.test"),
        Delivery: Delivery.objects.create(channel="webhook", webhook=webhook, target=webhook.shown_url,
                                          event="rollout.started", rollout_id=uuid.uuid4(), payload={},
                                          status="delivered"),
    }


def test_a_viewer_reads_the_records_granted_by_migration_0014(client, viewer, records):
    # The audit page's badge is the chain check record.
    audit = client.get(reverse("admin:nodes_fencerestart_changelist"))
    assert audit.status_code == 200 and "BROKEN" in audit.content.decode()
    promotion = client.get(reverse("admin:images_imageversion_promotion", args=[records["promotion"].pk]))
    assert promotion.status_code == 200 and "copied by digest" in promotion.content.decode()
    provisioning = client.get(reverse("admin:images_imageversion_provisioning", args=[records["provisioning"].pk]))
    assert provisioning.status_code == 200 and "docker pull registry:2" in provisioning.content.decode()
    # Its link to the provisioning page would only answer 403: not shown.
    assert reverse("admin:images_imageversion_provision_registry") not in provisioning.content.decode()
    # What each list shows of its row (the delivery log shows the webhook's URL it was sent to).
    for model, shown in [(JobRun, "Build 1.0.0 of prod"), (Webhook, "HOOK_SECRET_PROD"),
                         (MailNotification, "ops@example.test"), (Delivery, "https://chat.example.test/hooks/releases")]:
        opts, row = model._meta, records[model]
        listed = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert listed.status_code == 200 and shown in listed.content.decode(), model
        page = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        assert page.status_code == 200 and shown in page.content.decode(), model
        assert 'name="_save"' not in page.content.decode(), f"{model}: read, not edited"


def test_every_admin_page_a_viewer_may_read_answers_and_every_denied_one_is_refused(client, viewer):
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        permission = f"{opts.app_label}.{get_permission_codename('view', opts)}"
        if "view" not in opts.default_permissions or permission == "api.view_apitoken":
            continue  # django_rq's dashboard has its own permission; API tokens: below
        status = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code
        assert status == (403 if permission in NOT_READ_BY_ROLES else 200), (permission, status)


def test_a_viewer_sees_only_their_own_api_tokens(client, viewer, django_user_model):
    api_tokens.token_for(viewer)
    other = django_user_model.objects.create_user("release", password=None, is_staff=True)
    other.groups.add(Group.objects.get(name="Release manager"))
    api_tokens.token_for(other)
    mine, theirs = AuthToken.objects.get(user=viewer), AuthToken.objects.get(user=other)
    listed = client.get(reverse("admin:api_apitoken_changelist")).content.decode()
    assert mine.digest[:12] in listed and theirs.digest[:12] not in listed
    # Another's token "does not exist" for a Viewer: the admin sends them to its index, with nothing of the
    # token (its id is the digest the URL named, so the message repeats it) nor of its owner.
    page = client.get(reverse("admin:api_apitoken_change", args=[theirs.pk]), follow=True)
    assert page.redirect_chain == [(reverse("admin:index"), 302)]
    assert "doesn’t exist" in page.content.decode() and "of release" not in page.content.decode()
    # knox's own admin (which would make a token for anyone) is not there at all.
    assert client.get("/admin/knox/authtoken/").status_code == 404
