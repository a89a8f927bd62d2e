"""manage.py image promote: the admin's "Promote to cluster…" from a
terminal (images/promotion/rules.request), with its permission and its
refusals; --wait prints the copy job's log and exits 1 when it failed.
Real Redis; the registries are stubbed (the real copy:
tests/integration/promotion)."""
import io
import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError

from images import registry
from images.cli import follow
from images.models import Promotion, Rollout, Status
from images.models.rollout import RolloutStatus
from nodes.models import Cluster
from support.image_versions import REPOSITORY, draft_version
from support.rq import run_queued_jobs

DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def version(db):
    staging = Cluster.objects.create(name="staging", core_address="10.0.0.11", registry="10.0.0.11:5000")
    Cluster.objects.create(name="production", core_address="10.1.0.11", registry="10.1.0.11:5000")
    return draft_version(staging, "1.0.0", status=Status.PUSHED, image_id="sha256:" + "c" * 64, manifest_digest=DIGEST,
                         registry_reference=f"10.0.0.11:5000/{REPOSITORY}:1.0.0")


def succeeded_on_its_cluster(version):
    Rollout.objects.create(cluster=version.cluster, target=version, target_image=version.registry_reference,
                           target_pull=version.pull_reference, requested_by_username="rm", reason="release",
                           status=RolloutStatus.SUCCEEDED)


def user_with(*codenames, name="release"):
    user = User.objects.create_user(name, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def run(*args) -> str:
    out = io.StringIO()
    call_command("image", "promote", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    return str(error.value)


@pytest.mark.django_db
def test_promote_queues_the_copy_once(version, worker, django_capture_on_commit_callbacks):
    user_with("add_promotion")
    succeeded_on_its_cluster(version)
    with django_capture_on_commit_callbacks(execute=True):
        document = json.loads(run(str(version.pk), "--cluster", "production", "--user", "release", "--json"))
    promotion = Promotion.objects.get()
    assert (document["id"], document["status"], document["target_cluster"], document["digest"]) == (
        str(promotion.pk), "queued", "production", DIGEST)
    assert promotion.requested_by_username == "release" and worker.count == 1
    assert refused(str(version.pk), "--cluster", "production", "--user", "release") == (
        f"A promotion of {REPOSITORY}:1.0.0 to production is already queued or running.")


@pytest.mark.django_db
def test_promote_refusals(version, worker):
    user_with("add_promotion")
    # Starting a rollout is not requesting a promotion (the Promotion model's own add: images migration 0017).
    user_with("distribute_rollout", "activate_rollout", "view_promotion", name="operator")
    assert "operator may not do this: it needs the permission images.add_promotion" in refused(
        str(version.pk), "--cluster", "production", "--user", "operator")
    assert "never succeeded on staging" in refused(str(version.pk), "--cluster", "production", "--user", "release")
    succeeded_on_its_cluster(version)
    assert refused(str(version.pk), "--cluster", "nope", "--user", "release") == "No cluster named 'nope'."
    assert refused("999", "--cluster", "production", "--user", "release") == "No image version with id 999."
    assert not Promotion.objects.exists() and worker.count == 0


@pytest.mark.django_db(transaction=True)
def test_promote_wait_prints_the_log_and_fails_with_the_reason(version, worker, monkeypatch):
    """The job runs (in this process, as a worker would) while the command waits."""
    user_with("add_promotion")
    succeeded_on_its_cluster(version)
    monkeypatch.setattr(registry, "has_manifest", lambda location, repository, digest: False)
    monkeypatch.setattr(follow.time, "sleep", lambda seconds: run_queued_jobs())
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("image", "promote", str(version.pk), "--cluster", "production", "--user", "release", "--wait",
                     stdout=out)
    assert error.value.returncode == 1
    assert str(error.value) == (
        f"promotion of {REPOSITORY}:1.0.0 to production (failed): the source registry 10.0.0.11:5000 has no "
        f"manifest {DIGEST} for {REPOSITORY} (deleted since it was pushed?). Nothing was recorded on production.")
    printed = out.getvalue()
    assert f"Promotion of {REPOSITORY}:1.0.0 to production queued" in printed
    assert f"=== promote {REPOSITORY}:1.0.0 from staging (10.0.0.11:5000) to production" in printed
    assert Promotion.objects.get().status == "failed"
