"""Promotion between two sandbox clusters running side by side, each on its
own loopback range with its own registry on its Core node: a version built,
pushed and rolled out on staging by the product's jobs is promoted to
production by digest (skopeo, registry to registry), then rolled out there;
and a CI job's whole way through the API (roll out on staging, promote).
Its own xdist group (the module's, tests/conftest.py): it starts two
sandboxes of its own, on addresses no other test uses."""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from images import registry
from images.models import Promotion
from images.models.rollout import RolloutStatus
from nodes import jobs as node_jobs
from sandbox import cluster as sandbox_cluster
from sandbox import knobs, layout
from sandbox.register import register
from support import api_tokens, ssh
from support.api_tokens import START
from support.image_versions import REPOSITORY, product_version
from support.rollout_driving import deas, fence, roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)

STAGING_ADDRESS = os.environ.get("TEST_PROMOTION_STAGING_ADDRESS", "127.0.28.11")
PRODUCTION_ADDRESS = os.environ.get("TEST_PROMOTION_PRODUCTION_ADDRESS", "127.0.29.11")


@contextlib.contextmanager
def _sandbox(state_dir: Path, address: str, client_key: Path):
    try:
        yield sandbox_cluster.up(state_dir, dea_count=2, docker=True, kato_version="3.0", base_address=address,
                                 ssh_port=2222, client_key=client_key)
    finally:
        sandbox_cluster.down(state_dir, purge=True)


@pytest.fixture(scope="module")
def two_sandboxes():
    """Both authorize the console's one client key, as two real clusters would."""
    scratch = Path(tempfile.mkdtemp(prefix="sbx-promo-"))
    key = scratch / "client" / "id_ed25519"
    try:
        with _sandbox(scratch / "staging", STAGING_ADDRESS, key) as staging, \
                _sandbox(scratch / "production", PRODUCTION_ADDRESS, key) as production:
            yield staging, production
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def clusters(two_sandboxes, settings, worker_alive):
    settings.SSH_PRIVATE_KEY_PATH = Path(two_sandboxes[0]["client_key"])
    settings.SSH_CONNECT_TIMEOUT = 3
    settings.SSH_COMMAND_TIMEOUT = 30
    registered = [register(Path(sandbox["state_dir"]), name)
                  for sandbox, name in zip(two_sandboxes, ("staging", "production"), strict=True)]
    for cluster in registered:
        for node in cluster.nodes.all():
            node_jobs.refresh_node_facts(node.pk)
    return registered


def _promote(admin_client, version, cluster):
    return admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "promote", "_selected_action": [version.pk], "post": "yes", "choice": str(cluster.pk)}, follow=True)


def _repo_digests(sandbox, node_name, reference):
    code, out, err = ssh.run(layout.node(sandbox, node_name), sandbox["client_key"],
                             f"docker image inspect --format '{{{{json .RepoDigests}}}}' {reference}")
    assert code == 0, err
    return json.loads(out)


def test_a_version_that_succeeded_on_staging_is_promoted_by_digest_and_rolled_out_on_production(
        admin_client, two_sandboxes, clusters):
    staging_sandbox, production_sandbox = two_sandboxes
    staging, production = clusters
    assert staging.registry != production.registry  # each cluster has its own registry on its Core node
    version = product_version(staging_sandbox, staging, "2.0.0")

    # Not rolled out on staging yet: refused, nothing queued.
    page = _promote(admin_client, version, production).content.decode()
    assert "never succeeded on staging" in page
    assert not Promotion.objects.exists()

    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions

    # Production's registry down: the job ends errored with the reason, nothing recorded there.
    knobs.apply(Path(production_sandbox["state_dir"]), "registry", "down")
    try:
        _promote(admin_client, version, production)
        run_queued_jobs()
    finally:
        knobs.apply(Path(production_sandbox["state_dir"]), "registry", "up")
    failed = Promotion.objects.get()
    assert failed.status == "errored", failed.log
    assert f"the registry at {production.registry} does not answer" in failed.status_reason
    assert failed.target is None and not production.image_versions.exists()
    page = admin_client.get(reverse("admin:images_imageversion_promotion", args=[failed.pk])).content.decode()
    assert "does not answer" in page

    # Registry up again: promoted; production's registry serves the same digest.
    page = _promote(admin_client, version, production)
    assert page.redirect_chain and "queued" in page.content.decode()
    run_queued_jobs()
    promotion = Promotion.objects.exclude(pk=failed.pk).get()
    assert promotion.status == "succeeded", promotion.log
    assert registry.manifest_digest(production.registry, REPOSITORY, "2.0.0") == version.manifest_digest
    promoted = promotion.target
    assert (promoted.cluster, promoted.manifest_digest) == (production, version.manifest_digest)
    assert promoted.pull_reference == f"{production.registry}/{REPOSITORY}@{version.manifest_digest}"

    # The promotion's page links to the usual rollout plan page on production.
    page = admin_client.get(reverse("admin:images_imageversion_promotion", args=[promotion.pk])).content.decode()
    plan_url = reverse("admin:images_imageversion_roll_out", args=[promoted.pk])
    assert plan_url in page
    plan = admin_client.get(plan_url).content.decode()
    assert all(node["address"] in plan for node in layout.deas(production_sandbox))

    rollout = roll_out(admin_client, promoted)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    for name in deas(production_sandbox):
        assert fence(production_sandbox, name) == ("RUNNING", promoted.registry_reference)
        assert promoted.pull_reference in _repo_digests(production_sandbox, name, promoted.registry_reference)

    # The version's page: staging -> production, active on both after a refresh.
    for node in [*staging.nodes.all(), *production.nodes.all()]:
        node_jobs.refresh_node_facts(node.pk)
    page = admin_client.get(reverse("admin:images_imageversion_change", args=[version.pk])).content.decode()
    pipeline = page[page.index('id="pipeline"'):page.index("</ol>", page.index('id="pipeline"'))]
    assert pipeline.index("staging") < pipeline.index("promoted") < pipeline.index("production")
    assert pipeline.count('<span class="stage-state">active</span>') == 2
    assert pipeline.count("runs on 2 of 2 DEAs") == 2


def test_a_promotion_to_a_cluster_without_a_registry_is_streamed_to_each_dea(
        admin_client, two_sandboxes, clusters, settings):
    staging_sandbox, production_sandbox = two_sandboxes
    staging, production = clusters
    production.registry = ""  # production as the console knows it: no registry
    production.save(update_fields=["registry"])
    settings.BUILD_DOCKER_HOST = layout.node(staging_sandbox, "core")["docker_host"]  # the console's build engine
    settings.BUILD_TIMEOUT = 120
    version = product_version(staging_sandbox, staging, "3.0.0")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions

    _promote(admin_client, version, production)
    run_queued_jobs()
    promotion = Promotion.objects.get()
    assert promotion.status == "succeeded", promotion.log
    promoted = promotion.target
    assert (promoted.cluster, promoted.local, promoted.engine_reference) == (
        production, True, f"{REPOSITORY}:3.0.0")
    assert promoted.image_id == version.image_id and not promoted.manifest_digest

    rollout = roll_out(admin_client, promoted)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions
    for name in deas(production_sandbox):
        assert fence(production_sandbox, name) == ("RUNNING", promoted.engine_reference)
        code, out, err = ssh.run(layout.node(production_sandbox, name), production_sandbox["client_key"],
                                 f"docker inspect --type image --format '{{{{.Id}}}}' {promoted.engine_reference}")
        assert (code, out.strip()) == (0, version.image_id), err


def test_a_pipeline_rolls_out_on_staging_and_promotes_to_production_through_the_api(
        django_user_model, two_sandboxes, clusters):
    """What a CI job does with a Release manager's token: roll out on
    staging, promote, poll the promotion; production's registry then serves
    the digest staging's did."""
    staging_sandbox, _ = two_sandboxes
    staging, production = clusters
    version = product_version(staging_sandbox, staging, "4.0.0")
    ci = django_user_model.objects.create_user("ci", is_staff=True)
    ci.groups.add(Group.objects.get(name="Release manager"))
    api = api_tokens.client_with(api_tokens.token_for(ci))
    promote = f"/api/image-versions/{version.pk}/promote/"

    refused = api.post(promote, {"cluster": "production"}, format="json")
    assert refused.status_code == 409 and "never succeeded on staging" in refused.json()["detail"]

    started = api.post("/api/rollouts/", {**START, "version": version.pk}, format="json")
    assert started.status_code == 201, started.content
    run_queued_jobs()
    rollout = api.get(f"/api/rollouts/{started.json()['id']}/").json()
    assert rollout["status"] == RolloutStatus.SUCCEEDED, rollout["decisions"]

    accepted = api.post(promote, {"cluster": "production"}, format="json")
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["digest"] == version.manifest_digest
    run_queued_jobs()
    promotion = api.get(f"/api/promotions/{accepted.json()['id']}/").json()
    assert promotion["status"] == "succeeded", promotion["log"]
    assert registry.manifest_digest(production.registry, REPOSITORY, "4.0.0") == version.manifest_digest
    promoted = api.get(f"/api/image-versions/{promotion['target']}/").json()
    assert (promoted["cluster"], promoted["manifest_digest"]) == ("production", version.manifest_digest)
    assert api.get("/api/promotions/", {"source": version.pk, "status": "succeeded"}).json()["count"] == 1
