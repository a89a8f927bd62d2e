"""Promotion's rules, job endings and pipeline data against rows and stubbed
registries (the real copy between two sandbox clusters runs in
tests/integration/promotion/test_promotion_between_clusters.py)."""
import contextlib
import os
from pathlib import Path

import docker
import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from images import engine, registry
from images.models import Promotion, Rollout, Status
from images.models.rollout import RolloutStatus
from images.promotion import job, pipeline, rules, skopeo
from job_runs import reconciler
from job_runs.models import JobRun, RunStatus
from nodes.models import Cluster, Node
from support.image_versions import REPOSITORY, draft_version
from support.job_runs import dead_worker, started_by
from support.rq import register_idle_worker, run_queued_jobs

pytestmark = pytest.mark.django_db
DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


def pushed(cluster, tag="1.0.0", digest=DIGEST):
    return draft_version(cluster, tag, status=Status.PUSHED, image_id="sha256:" + "c" * 64, manifest_digest=digest,
                         registry_reference=f"{cluster.registry}/{REPOSITORY}:{tag}")


def rolled_out(version, status=RolloutStatus.SUCCEEDED, **fields):
    return Rollout.objects.create(cluster=version.cluster, target=version, target_image=version.registry_reference,
                                  target_pull=version.pull_reference, requested_by_username="ops", reason="test",
                                  status=status, **fields)


def test_a_version_never_rolled_out_or_whose_rollout_failed_is_refused(staging, production):
    version = pushed(staging)
    assert "never succeeded on staging" in rules.refusal(version, production)
    rolled_out(version, RolloutStatus.ROLLED_BACK)
    assert "never succeeded on staging" in rules.refusal(version, production)
    rolled_out(version, RolloutStatus.SUCCEEDED, distribute_only=True)  # pulled everywhere, never active
    assert "never succeeded on staging" in rules.refusal(version, production)


def test_a_local_or_unpushed_version_is_refused_it_has_no_digest(staging, production):
    local = draft_version(staging, "1.0.0", status=Status.BUILT, image_id="sha256:" + "c" * 64, local=True)
    rolled_out(local)
    assert "no digest in a registry (built, local)" in rules.refusal(local, production)


def test_the_same_cluster_and_a_tag_taken_by_another_digest_are_refused(staging, production):
    version = pushed(staging)
    rolled_out(version)
    assert rules.refusal(version, production) == ""
    assert "already on staging" in rules.refusal(version, staging)
    pushed(production, digest=OTHER)
    refusal = rules.refusal(version, production)
    assert "already has a version exampleco/newimg:1.0.0 (sha256:bbbbbbbbbbbb)" in refusal and "immutable" in refusal


def test_skopeo_copies_from_the_source_digest_to_the_target_tag_keeping_the_digest(monkeypatch):
    monkeypatch.setattr(registry, "scheme", lambda location: "https" if location.startswith("tls") else "http")
    argv = skopeo.command("10.0.0.11:5000", "tls.example:443", REPOSITORY, DIGEST, "1.0.0")
    assert argv[-2:] == [f"docker://10.0.0.11:5000/{REPOSITORY}@{DIGEST}", f"docker://tls.example:443/{REPOSITORY}:1.0.0"]
    assert {"--preserve-digests", "--all", "--src-tls-verify=false", "--dest-tls-verify=true"} <= set(argv)


class FakeRegistries:
    """Each location's manifests, answered as images/registry.py would."""

    def __init__(self, monkeypatch, source, target, *, down=(), copied_as=DIGEST):
        self.manifests = {source: {DIGEST}, target: set()}
        self.tags = {}
        self.copies = []

        def reachable(location):
            if location in down:
                raise registry.RegistryUnreachable(f"the registry at {location} does not answer (refused)")

        def has_manifest(location, name, digest):
            reachable(location)
            return digest in self.manifests[location]

        def manifest_digest(location, name, tag):
            reachable(location)
            return self.tags.get((location, name, tag))

        def copy(src, dst, name, digest, tag, log):
            self.copies.append((src, dst, name, digest, tag))
            self.tags[(dst, name, tag)] = copied_as

        monkeypatch.setattr(registry, "has_manifest", has_manifest)
        monkeypatch.setattr(registry, "manifest_digest", manifest_digest)
        monkeypatch.setattr(registry, "ping", reachable)
        monkeypatch.setattr(skopeo, "copy", copy)


@pytest.fixture
def promotable(staging, production, admin_user):
    version = pushed(staging)
    rolled_out(version)
    return Promotion.objects.create(source=version, target_cluster=production, digest=DIGEST,
                                    source_reference=version.pull_reference,
                                    target_reference=rules.target_reference(version, production),
                                    requested_by=admin_user, requested_by_username="admin")


def test_a_copy_that_gives_the_same_digest_records_the_version_on_the_target(monkeypatch, promotable, production):
    fake = FakeRegistries(monkeypatch, "10.0.0.11:5000", "10.1.0.11:5000")
    job.promote_image_version(str(promotable.pk))
    promotable.refresh_from_db()
    assert promotable.status == RunStatus.SUCCEEDED, promotable.log
    assert fake.copies == [("10.0.0.11:5000", "10.1.0.11:5000", REPOSITORY, DIGEST, "1.0.0")]
    target = promotable.target
    assert (target.cluster, target.status, target.manifest_digest) == (production, Status.PUSHED, DIGEST)
    assert target.pull_reference == f"10.1.0.11:5000/{REPOSITORY}@{DIGEST}"
    assert target.created_by_username == "admin" and target.promoted_from == promotable


@pytest.mark.parametrize(("case", "status", "says"), [
    ("target down", RunStatus.ERRORED, "the registry at 10.1.0.11:5000 does not answer"),
    ("digest differs", RunStatus.FAILED, f"the digest differs: 10.1.0.11:5000 serves {OTHER}"),
    ("source lacks it", RunStatus.FAILED, f"the source registry 10.0.0.11:5000 has no manifest {DIGEST}"),
])
def test_a_failing_part_ends_the_promotion_and_its_job_run_with_the_reason(
        monkeypatch, promotable, production, admin_client, clean_queue, django_capture_on_commit_callbacks,
        case, status, says):
    fake = FakeRegistries(monkeypatch, "10.0.0.11:5000", "10.1.0.11:5000",
                          down=("10.1.0.11:5000",) if case == "target down" else (),
                          copied_as=OTHER if case == "digest differs" else DIGEST)
    if case == "source lacks it":
        fake.manifests["10.0.0.11:5000"].clear()
    version = promotable.source
    promotable.delete()  # queued through the admin instead, as an operator does
    worker = register_idle_worker()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(reverse("admin:images_imageversion_changelist"), {
                "action": "promote", "_selected_action": [version.pk], "post": "yes", "choice": str(production.pk)})
        assert response.status_code == 302
        run_queued_jobs()
    finally:
        worker.register_death()
    row = Promotion.objects.get()
    assert row.status == status and says in row.status_reason, row.log
    assert "Nothing was recorded on production" in row.status_reason
    assert row.target is None and not production.image_versions.exists()
    run = JobRun.objects.get(rq_job_id=str(row.pk))
    assert run.status == status and says in run.reason
    page = admin_client.get(reverse("admin:images_imageversion_promotion", args=[row.pk])).content.decode()
    assert says in page


def test_the_plan_page_offers_only_the_clusters_it_may_go_to(staging, production, admin_client):
    version = pushed(staging)
    rolled_out(version)
    pushed(production, digest=OTHER)
    bare = Cluster.objects.create(name="bare", core_address="10.2.0.11")
    page = admin_client.post(reverse("admin:images_imageversion_changelist"), {
        "action": "promote", "_selected_action": [version.pk]}).content.decode()
    assert "tags are immutable" in page and f'name="choice" value="{production.pk}"' not in page
    assert f'name="choice" value="{bare.pk}"' in page and "Promote to bare (no registry: streamed to each DEA)" in page
    assert "from staging&#x27;s registry to the chosen cluster&#x27;s registry (or, without one, its DEAs by the rollout)" in page
    assert "bare has no registry: pull 10.0.0.11:5000/exampleco/newimg@sha256:aaaa" in page
    assert "as exampleco/newimg:1.0.0; its rollout streams it to each DEA" in page
    assert not Promotion.objects.exists()


def test_the_pipeline_goes_from_the_origin_to_each_promotion_with_where_it_runs(staging, production, promotable):
    origin = promotable.source
    target = pushed(production)
    Promotion.objects.filter(pk=promotable.pk).update(status=RunStatus.SUCCEEDED, target=target)
    bare = Cluster.objects.create(name="bare", core_address="10.2.0.11", registry="10.2.0.11:5000")
    Promotion.objects.create(source=origin, target_cluster=bare, digest=DIGEST, status=RunStatus.FAILED,
                             requested_by_username="ops")
    for address, image in (("10.1.0.12", target.registry_reference), ("10.1.0.13", "other:1")):
        Node.objects.create(cluster=production, address=address, roles=["dea"], desired_image=image,
                            fence_state="RUNNING")
    stages = pipeline.pipeline(target)  # from either end, the same pipeline
    assert [(s.cluster.name, s.version, s.state) for s in stages] == [
        ("staging", origin, "active"), ("production", target, "not active"), ("bare", None, "promotion failed")]
    assert stages[1].running_on == ["10.1.0.12"] and stages[1].dea_count == 2
    assert [s.cluster.name for s in pipeline.pipeline(origin)] == ["staging", "production", "bare"]


def test_the_version_page_draws_the_pipeline(staging, production, promotable, admin_client):
    target = pushed(production)
    Promotion.objects.filter(pk=promotable.pk).update(status=RunStatus.SUCCEEDED, target=target)
    page = admin_client.get(reverse("admin:images_imageversion_change", args=[target.pk])).content.decode()
    start = page.index('id="pipeline"')
    drawn = page[start:page.index("</ol>", start)]
    assert drawn.index("staging") < drawn.index("promoted") < drawn.index("production")
    assert reverse("admin:images_imageversion_promotion", args=[promotable.pk]) in drawn
    assert "production</a> (exampleco/newimg:1.0.0)</strong> (this page)" in drawn


class FakeEngine:
    """The build engine's Docker API as the SDK answers it, for a promotion to a registry-less cluster."""

    def __init__(self, pull_error=None, names=None):
        self.pull_error, self.names, self.tagged = pull_error, dict(names or {}), []

    def pull(self, name, tag, stream, decode):
        if self.pull_error:
            return iter([{"status": "Pulling from exampleco/newimg"}, {"error": self.pull_error}])
        self.names[f"{name}@{tag}"] = {"Id": "sha256:" + "c" * 64, "RepoDigests": [f"{name}@{tag}"]}
        return iter([{"status": f"Digest: {tag}"}])

    def inspect_image(self, reference):
        if reference not in self.names:
            raise docker.errors.NotFound(f"No such image: {reference}")
        return self.names[reference]

    def tag(self, image, repository, tag):
        self.tagged.append((image, f"{repository}:{tag}"))


@pytest.mark.parametrize(("fake", "status", "says"), [
    (FakeEngine(), RunStatus.SUCCEEDED, "exampleco/newimg:1.0.0 on the build engine, streamed to each DEA"),
    (FakeEngine(pull_error="manifest unknown"), RunStatus.FAILED,
     f"the build engine could not pull 10.0.0.11:5000/exampleco/newimg@{DIGEST}: manifest unknown"),
    (FakeEngine(names={"exampleco/newimg:1.0.0": {"Id": "sha256:" + "d" * 64}}), RunStatus.FAILED,
     "the build engine already names another image exampleco/newimg:1.0.0 (sha256:dddddddddddd)"),
])
def test_to_a_cluster_without_a_registry_the_build_engine_pulls_it_by_digest(monkeypatch, promotable, fake, status,
                                                                            says):
    Cluster.objects.filter(pk=promotable.target_cluster_id).update(registry="")
    Promotion.objects.filter(pk=promotable.pk).update(target_reference=f"{REPOSITORY}:1.0.0")  # as requested to it
    FakeRegistries(monkeypatch, "10.0.0.11:5000", "")
    monkeypatch.setattr(engine, "open_engine", lambda cluster: contextlib.nullcontext(fake))
    job.promote_image_version(str(promotable.pk))
    promotable.refresh_from_db()
    assert promotable.status == status and says in promotable.status_reason, promotable.log
    if status == RunStatus.SUCCEEDED:
        target = promotable.target
        assert (target.local, target.status, target.image_id) == (True, Status.BUILT, promotable.source.image_id)
        assert fake.tagged == [(target.image_id, "exampleco/newimg:1.0.0")]
    else:
        assert promotable.target is None and fake.tagged == []


def fake_skopeo(tmp_path, monkeypatch, body):
    """A `skopeo` first on PATH that records its pid, then runs body (sh)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "skopeo"
    script.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\necho 'Getting image source signatures'\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(registry, "scheme", lambda location: "http")
    return tmp_path / "pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_hung_copy_is_stopped_at_the_timeout_and_says_so(tmp_path, monkeypatch):
    pid_file = fake_skopeo(tmp_path, monkeypatch, "exec sleep 60")
    monkeypatch.setattr(skopeo, "COPY_TIMEOUT", 1)
    lines = []
    with pytest.raises(skopeo.CopyFailed, match="stopped after 1 s"):
        skopeo.copy("10.0.0.11:5000", "10.1.0.11:5000", REPOSITORY, DIGEST, "1.0.0", lines.append)
    assert "Getting image source signatures" in lines and not _alive(int(pid_file.read_text()))


def test_a_copy_killed_by_something_else_is_not_reported_as_a_timeout(tmp_path, monkeypatch):
    fake_skopeo(tmp_path, monkeypatch, "kill -9 $$")
    with pytest.raises(skopeo.CopyFailed, match="killed by signal 9") as failure:
        skopeo.copy("10.0.0.11:5000", "10.1.0.11:5000", REPOSITORY, DIGEST, "1.0.0", lambda line: None)
    assert "stopped after" not in str(failure.value)


def test_skopeo_is_stopped_when_the_job_cannot_go_on(tmp_path, monkeypatch):
    """The log line cannot be written (a locked database, RQ's job timeout):
    the exception ends the job, and the copy must not go on unwatched."""
    pid_file = fake_skopeo(tmp_path, monkeypatch, "exec sleep 60")

    def log(line):
        if line.startswith("Getting"):
            raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        skopeo.copy("10.0.0.11:5000", "10.1.0.11:5000", REPOSITORY, DIGEST, "1.0.0", log)
    assert not _alive(int(pid_file.read_text()))


@pytest.mark.parametrize(("location", "repository", "digest", "tag"), [
    ("--insecure-policy", REPOSITORY, DIGEST, "1.0.0"),
    ("10.0.0.11:5000", "--debug", DIGEST, "1.0.0"),
    ("10.0.0.11:5000", REPOSITORY, "sha256:../../x", "1.0.0"),
    ("10.0.0.11:5000", REPOSITORY, DIGEST, "1.0.0 --all"),
    ("10.0.0.11:5000", REPOSITORY, DIGEST, "-x"),
])
def test_skopeo_refuses_arguments_that_are_not_a_registry_name_digest_or_tag(location, repository, digest, tag):
    with pytest.raises(skopeo.CopyFailed, match="not copied: .* is not"):
        skopeo.command(location, "10.1.0.11:5000", repository, digest, tag)


@pytest.mark.parametrize("meanwhile", ["a version with the tag", "registry moved"])
def test_the_job_checks_the_refusals_again_before_copying(monkeypatch, promotable, production, meanwhile):
    """Between the POST and the job: production got its own version with
    this tag (not pushed yet, so its registry does not show it), or its
    registry moved. Nothing is copied into production's registry."""
    fake = FakeRegistries(monkeypatch, "10.0.0.11:5000", "10.1.0.11:5000")
    if meanwhile == "a version with the tag":
        draft_version(production, "1.0.0", status=Status.BUILT, image_id="sha256:" + "d" * 64)
        says = "production already has a version exampleco/newimg:1.0.0"
    else:
        Cluster.objects.filter(pk=production.pk).update(registry="10.1.0.99:5000")
        says = "production's registry is now 10.1.0.99:5000, not 10.1.0.11:5000 as when it was requested"
    job.promote_image_version(str(promotable.pk))
    promotable.refresh_from_db()
    assert promotable.status == RunStatus.FAILED and says in promotable.status_reason, promotable.log
    assert fake.copies == [] and promotable.target is None


def _queries(function, *args) -> int:
    with CaptureQueriesContext(connection) as captured:
        function(*args)
    return len(captured)


def test_the_pipeline_reads_a_constant_number_of_queries_and_one_stage_per_cluster(staging, production, promotable):
    origin, target = promotable.source, pushed(production)
    Promotion.objects.filter(pk=promotable.pk).update(status=RunStatus.SUCCEEDED, target=target)
    Node.objects.create(cluster=production, address="10.1.0.12", roles=["dea"], desired_image=target.registry_reference,
                        fence_state="RUNNING")
    small = _queries(pipeline.pipeline, target)
    # Two more hops (production -> edge -> dr) and three failed attempts to "bare".
    source = target
    for name, net in (("edge", 3), ("dr", 4)):
        cluster = Cluster.objects.create(name=name, core_address=f"10.{net}.0.11", registry=f"10.{net}.0.11:5000")
        made = pushed(cluster)
        Promotion.objects.create(source=source, target_cluster=cluster, digest=DIGEST, status=RunStatus.SUCCEEDED,
                                 target=made, requested_by_username="ops")
        Node.objects.create(cluster=cluster, address=f"10.{net}.0.12", roles=["dea"],
                            desired_image=made.registry_reference, fence_state="RUNNING")
        source = made
    bare = Cluster.objects.create(name="bare", core_address="10.2.0.11", registry="10.2.0.11:5000")
    for status in (RunStatus.FAILED, RunStatus.ERRORED, RunStatus.FAILED):
        Promotion.objects.create(source=origin, target_cluster=bare, digest=DIGEST, status=status,
                                 requested_by_username="ops")
    assert _queries(pipeline.pipeline, source) == small
    stages = pipeline.pipeline(source)
    assert [(s.cluster.name, s.state) for s in stages] == [
        ("staging", "active"), ("production", "not active"), ("bare", "promotion failed"),
        ("edge", "not active"), ("dr", "not active")]
    assert [s.running_on for s in stages] == [[], ["10.1.0.12"], [], ["10.3.0.12"], ["10.4.0.12"]]


def test_a_promotion_whose_worker_died_mid_copy_ends_errored_and_can_be_requested_again(
        staging, production, admin_user, clean_queue, django_capture_on_commit_callbacks):
    version = pushed(staging)
    rolled_out(version)
    alive = register_idle_worker()  # the reconciler works while other workers are alive
    try:
        with django_capture_on_commit_callbacks(execute=True):
            row = rules.request(version, production, admin_user)
        worker = dead_worker(clean_queue)
        # The dead worker had claimed it and was copying.
        Promotion.objects.filter(pk=row.pk).update(status=RunStatus.RUNNING)
        JobRun.objects.filter(rq_job_id=str(row.pk)).update(status="running", worker_name=worker.name,
                                                            started_at=timezone.now())
        started_by(clean_queue, str(row.pk), worker)
        assert "already queued or running" in rules.refusal(version, production)

        lines = reconciler.reconcile(clean_queue)
    finally:
        alive.register_death()
    gone = f"lost: the worker running it ({worker.name}) is gone"
    assert lines == [f"Promote {version} to production: {gone}"]
    row.refresh_from_db()
    assert row.status == RunStatus.ERRORED and gone in row.status_reason and row.finished_at is not None
    assert row.target is None and not production.image_versions.exists()
    assert rules.refusal(version, production) == ""  # the operator may try again
