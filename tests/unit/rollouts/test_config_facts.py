"""A rollout's config step names the new image for every node of the
cluster (the config is cluster-wide), and writes it onto the rows of the
nodes the rollout does not restart (images/rollouts/config_facts.py): a
DEA the plan left out stopped showing "in sync" on the image before, its
drift is the refresh's own verdict (nodes/drift.classify) on the image the
config now names, and the node list says which rollout set it, not that a
refresh happened. The step runs for real (steps.set_config); kato is stubbed."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from django.urls import reverse

from images.models import ImageVersion
from images.models.rollout import Phase, Rollout, RolloutStep
from images.rollouts import config_facts, steps, verified_facts
from nodes import config_history, facts, remote
from nodes.admin import facts_source
from nodes.models import Cluster, Node
from nodes.models.node import Drift
from nodes.supervisor import ProcessInfo
from support.config_kato import FakeKato

pytestmark = pytest.mark.django_db

BASE = "stackato/app-holophonor:3.0.0"
TARGET = "10.0.0.11:5000/exampleco/app:1.1.0"
DIGEST = "sha256:" + "a" * 64
BASE_ID = "sha256:" + "1" * 64
REFRESHED = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)
_WHEN = "%Y-%m-%d %H:%M:%S UTC"


@pytest.fixture(autouse=True)
def kato(monkeypatch):
    monkeypatch.setattr(steps, "Kato", FakeKato)
    FakeKato.config = {"image": BASE}
    return FakeKato


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    config_history.record(cluster, BASE, REFRESHED, seen_by_refresh=True)
    return cluster


def refreshed_node(cluster, address, roles, **facts_read):
    """As the last refresh before the rollout left it: in sync on BASE."""
    return Node.objects.create(**{
        "cluster": cluster, "address": address, "roles": roles, "host_key_type": "ssh-ed25519", "host_key": "AAAA",
        "reachable": True, "last_seen": REFRESHED, "facts_refreshed_at": REFRESHED, "desired_image": BASE,
        "fence_state": "RUNNING" if "dea" in roles else "", "fence_pid": 6157 if "dea" in roles else None,
        "fence_started_at": REFRESHED - timedelta(hours=1) if "dea" in roles else None,
        "docker_version": "1.13.1", "images": [{"ref": BASE, "id": BASE_ID, "digest": None}],
        "drift": Drift.IN_SYNC, **facts_read})


@pytest.fixture
def core(cluster):
    return refreshed_node(cluster, "10.0.0.11", ["primary", "controller"])


@pytest.fixture
def worked(cluster):
    return refreshed_node(cluster, "10.0.0.21", ["dea"])


@pytest.fixture
def left_out(cluster):
    return refreshed_node(cluster, "10.0.0.22", ["dea"], enabled=False)


@pytest.fixture
def rollout(cluster, core, worked, left_out):
    """Rolls TARGET out to `worked`; `left_out` is disabled, so the plan left it out."""
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/app", tag="1.1.0",
                                          from_reference=BASE)
    ImageVersion.objects.filter(pk=version.pk).update(status="pushed", image_id="sha256:" + "2" * 64,
                                                      registry_reference=TARGET, manifest_digest=DIGEST)
    rollout = Rollout.objects.create(
        cluster=cluster, target_id=version.pk, target_image=TARGET, target_pull=f"10.0.0.11:5000/exampleco/app@{DIGEST}",
        requested_by_username="ops", reason="r", status="running", left_out=f"{left_out.address} (disabled)")
    RolloutStep.objects.create(rollout=rollout, node=worked, phase=Phase.PULL, image=TARGET)
    RolloutStep.objects.create(rollout=rollout, node=worked, phase=Phase.RESTART, image=TARGET)
    return rollout


def set_config(rollout, phase, image) -> str:
    step = RolloutStep.objects.create(rollout=rollout, node=rollout.cluster.core_node, phase=phase, image=image)
    step = RolloutStep.objects.select_related("rollout__cluster", "rollout__target").get(pk=step.pk)
    return steps.set_config(step, session=None)


def reread(*nodes):
    return [Node.objects.select_related("cluster").get(pk=node.pk) for node in nodes]


def test_a_left_out_dea_shows_the_image_the_config_now_names_and_is_no_longer_in_sync(rollout, left_out):
    said = set_config(rollout, Phase.CONFIG, TARGET)
    assert FakeKato.config["image"] == TARGET and f"{BASE} -> {TARGET}" in said

    [left_out] = reread(left_out)
    assert left_out.desired_image == TARGET
    # It was never given the image (left out of the pull too): that comes first.
    assert left_out.drift == Drift.IMAGE_MISSING
    assert left_out.desired_image_set_by_rollout == rollout.pk and left_out.desired_image_set_at > REFRESHED
    # The rest of the row is the refresh's: nothing was read from the node.
    assert (left_out.fence_pid, left_out.facts_refreshed_at, left_out.facts_verified_at) == (6157, REFRESHED, None)
    assert facts_source.describe(left_out) == (
        f"desired image as the config set by rollout {rollout.pk} at {left_out.desired_image_set_at:{_WHEN}}; "
        f"the rest refreshed {REFRESHED:{_WHEN}}")


def test_a_retry_finding_the_config_set_by_its_lost_attempt_still_writes_the_left_out_rows(rollout, left_out):
    # The lost attempt set the config and was lost before it wrote the rows.
    FakeKato.config["image"] = TARGET
    said = set_config(rollout, Phase.CONFIG, TARGET)
    assert said == f"the config already names {TARGET}"

    [left_out] = reread(left_out)
    assert (left_out.desired_image, left_out.drift) == (TARGET, Drift.IMAGE_MISSING)
    assert left_out.desired_image_set_by_rollout == rollout.pk


def test_a_left_out_dea_holding_the_image_is_not_restarted(rollout, left_out):
    """Distributed before (by the pinned digest): its fence still runs the
    image the config named when it started."""
    Node.objects.filter(pk=left_out.pk).update(images=[*left_out.images, {"ref": TARGET, "id": None, "digest": DIGEST}])
    set_config(rollout, Phase.CONFIG, TARGET)
    [left_out] = reread(left_out)
    assert (left_out.desired_image, left_out.drift) == (TARGET, Drift.NOT_RESTARTED)


def test_the_nodes_the_rollout_restarts_and_the_nodes_without_fence(rollout, core, worked):
    """A DEA with a restart step gets its facts from that step
    (verified_facts.py), not from the config; the Core has no fence to drift."""
    set_config(rollout, Phase.CONFIG, TARGET)
    core, worked = reread(core, worked)
    assert (worked.desired_image, worked.drift, worked.desired_image_set_at) == (BASE, Drift.IN_SYNC, None)
    assert (core.desired_image, core.drift, core.desired_image_set_by_rollout) == (TARGET, Drift.IN_SYNC, rollout.pk)


def test_a_rollbacks_config_set_back_shows_the_image_before_again(rollout, left_out):
    set_config(rollout, Phase.CONFIG, TARGET)
    Rollout.objects.filter(pk=rollout.pk).update(previous_image=BASE, status="rolling_back")
    said = set_config(rollout, Phase.REVERT_CONFIG, BASE)
    assert f"{TARGET} -> {BASE}" in said

    [left_out] = reread(left_out)
    # Its fence started before the rollout, on BASE, which the config names again.
    assert (left_out.desired_image, left_out.drift) == (BASE, Drift.IN_SYNC)
    assert f"desired image as the config set by rollout {rollout.pk} at " in facts_source.describe(left_out)


def test_a_failure_writing_the_rows_never_becomes_the_steps_outcome(rollout, left_out, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ValueError("a bug in the picture")
    monkeypatch.setattr(config_facts, "apply", broken)
    said = set_config(rollout, Phase.CONFIG, TARGET)
    assert FakeKato.config["image"] == TARGET and f"{BASE} -> {TARGET}" in said  # the config is set
    [left_out] = reread(left_out)
    assert (left_out.desired_image, left_out.drift, left_out.desired_image_set_at) == (BASE, Drift.IN_SYNC, None)
    assert "could not write rollout" in caplog.text and "a bug in the picture" in caplog.text


def test_a_refresh_that_wrote_the_row_meanwhile_stands(rollout, left_out, monkeypatch):
    """The refresh read the node itself: the config step's word does not
    overwrite it."""
    judge = config_facts.apply

    def refresh_lands_first(node, step, now):
        Node.objects.filter(pk=node.pk).update(facts_refreshed_at=now, desired_image="read/by:refresh")
        judge(node, step, now)
    monkeypatch.setattr(config_facts, "apply", refresh_lands_first)
    set_config(rollout, Phase.CONFIG, TARGET)
    [left_out] = reread(left_out)
    assert (left_out.desired_image, left_out.desired_image_set_at) == ("read/by:refresh", None)


def test_the_next_refresh_reads_the_config_and_drops_the_rollouts_word(rollout, left_out, monkeypatch):
    set_config(rollout, Phase.CONFIG, TARGET)

    class NodeKato:
        def __init__(self, session):
            pass

        def config_get(self, component, key):
            return TARGET
    fence = ProcessInfo(name="fence", state="RUNNING", pid=6157, started=REFRESHED - timedelta(hours=1))
    monkeypatch.setattr(facts, "Kato", NodeKato)
    monkeypatch.setattr(facts, "Supervisor", lambda session: SimpleNamespace(process_info=lambda name: fence))
    monkeypatch.setattr(facts, "remote_docker", SimpleNamespace(
        engine_version=lambda session: "1.13.1", images=lambda session: [{"ref": BASE, "id": BASE_ID, "digest": None}],
        registry_config=lambda session: None))
    monkeypatch.setattr(remote, "endpoint", lambda node: node.address)
    [left_out] = reread(left_out)
    facts.refresh(left_out, SimpleNamespace(get=lambda endpoint: None))

    [left_out] = reread(left_out)
    assert (left_out.desired_image, left_out.drift) == (TARGET, Drift.IMAGE_MISSING)
    assert left_out.desired_image_set_at is None and left_out.desired_image_set_by_rollout is None
    assert facts_source.describe(left_out) == f"refreshed {left_out.facts_refreshed_at:{_WHEN}}"


def test_a_later_verified_restart_replaces_the_config_steps_word(rollout, cluster, left_out):
    set_config(rollout, Phase.CONFIG, TARGET)
    Rollout.objects.filter(pk=rollout.pk).update(status="succeeded")
    later = Rollout.objects.create(cluster=cluster, target_image=TARGET, target_pull=TARGET, requested_by_username="ops",
                                   reason="r", status="running")
    step = RolloutStep.objects.create(rollout=later, node=left_out, phase=Phase.RESTART, image=TARGET)
    verified_facts.record(step, ProcessInfo(name="fence", state="RUNNING", pid=7001, started=datetime.now(timezone.utc)))
    [left_out] = reread(left_out)
    assert left_out.desired_image_set_at is None
    assert facts_source.describe(left_out).startswith(f"fence, image and config as verified by rollout {later.pk} at ")


def test_the_node_list_says_both_when_a_config_step_follows_a_verified_restart(rollout, cluster, left_out,
                                                                                admin_client):
    """Verified by one rollout, then left out of the next: fence and image
    are the verification's, the desired image the later config step's."""
    earlier = Rollout.objects.create(cluster=cluster, target_image=BASE, target_pull=BASE, requested_by_username="ops",
                                     reason="r", status="succeeded")
    verified = datetime(2026, 11, 30, 4, 30, tzinfo=timezone.utc)
    Node.objects.filter(pk=left_out.pk).update(facts_verified_at=verified, facts_verified_by_rollout=earlier.pk)
    set_config(rollout, Phase.CONFIG, TARGET)
    [left_out] = reread(left_out)
    expected = (f"desired image as the config set by rollout {rollout.pk} at {left_out.desired_image_set_at:{_WHEN}}; "
                f"fence and image as verified by rollout {earlier.pk} at {verified:{_WHEN}}; "
                f"the rest refreshed {REFRESHED:{_WHEN}}")
    assert facts_source.describe(left_out) == expected
    listed = admin_client.get(reverse("admin:nodes_node_changelist")).content.decode()
    assert f'desired image as the config set by rollout <a href="{reverse("admin:images_rollout_change", args=[rollout.pk])}">' in listed
    page = admin_client.get(reverse("admin:nodes_node_change", args=[left_out.pk])).content.decode()
    assert "desired image missing on node" in page and TARGET in page
