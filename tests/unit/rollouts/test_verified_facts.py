"""A verified restart writes what it verified onto its Node (images/rollouts/
verified_facts.py): fence's pid and start time, the image the config names
and the engine holds, and drift recomputed by nodes/drift.classify, the
refresh's own function. The refresh's time is left alone: the node page
says "verified by rollout N", never "refreshed"; the next refresh clears it."""
import contextlib
from datetime import datetime, timedelta, timezone

import pytest

from images.models import ImageVersion
from images.models.rollout import Phase, Rollout, RolloutKind, RolloutStep
from images.rollouts import verified_facts
from nodes import config_history, facts, remote
from nodes.admin import facts_source
from nodes.models import Cluster, Node
from nodes.models.node import Drift
from nodes.supervisor import ProcessInfo

pytestmark = pytest.mark.django_db

BASE = "stackato/app-holophonor:3.0.0"
TARGET = "10.0.0.11:5000/exampleco/app:1.1.0"
DIGEST, OLD_DIGEST = "sha256:" + "a" * 64, "sha256:" + "b" * 64
BASE_ID = "sha256:" + "1" * 64
REFRESHED = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)
CHANGED = REFRESHED + timedelta(minutes=10)


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    config_history.record(cluster, BASE, REFRESHED, seen_by_refresh=True)
    return cluster


@pytest.fixture
def dea(cluster):
    """As the last refresh before the rollout left it: in sync on BASE."""
    return Node.objects.create(
        cluster=cluster, address="10.0.0.21", roles=["dea"], host_key_type="ssh-ed25519", host_key="AAAA",
        reachable=True, last_seen=REFRESHED, facts_refreshed_at=REFRESHED, desired_image=BASE,
        fence_state="RUNNING", fence_pid=6157, fence_started_at=REFRESHED - timedelta(hours=1),
        docker_version="1.13.1", images=[{"ref": BASE, "id": BASE_ID, "digest": None}], drift=Drift.IN_SYNC)


def rollout_of(cluster, **fields) -> Rollout:
    if "target" in fields:  # a rollback: no version of its own
        fields = {"previous_image": TARGET, "requested_by_username": "ops", "reason": "r", "status": "running",
                  **fields}
        return Rollout.objects.create(cluster=cluster, **fields)
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/app", tag="1.1.0",
                                          from_reference=BASE)
    ImageVersion.objects.filter(pk=version.pk).update(status="pushed", image_id="sha256:" + "2" * 64,
                                                      registry_reference=TARGET, manifest_digest=DIGEST)
    version.refresh_from_db()
    fields = {"target": version, "target_image": TARGET, "target_pull": f"10.0.0.11:5000/exampleco/app@{DIGEST}",
              "previous_image": BASE, "requested_by_username": "ops", "reason": "r", "status": "running", **fields}
    return Rollout.objects.create(cluster=cluster, **fields)


def step_of(rollout, node, phase, image) -> RolloutStep:
    return RolloutStep.objects.create(rollout=rollout, node=node, phase=phase, image=image, fence_pid_before=6157)


def fence(pid: int, started: datetime) -> ProcessInfo:
    return ProcessInfo(name="fence", state="RUNNING", pid=pid, started=started)


def test_a_verified_restart_shows_the_new_fence_and_image_without_claiming_a_refresh(cluster, dea):
    rollout = rollout_of(cluster)
    config_history.record(cluster, TARGET, CHANGED)  # the rollout's config step
    # Before the step, the row still shows the old fence, "in sync" on BASE.
    assert (dea.fence_pid, dea.desired_image, dea.drift) == (6157, BASE, Drift.IN_SYNC)

    verified_facts.record(step_of(rollout, dea, Phase.RESTART, TARGET), fence(7001, CHANGED + timedelta(seconds=30)))

    dea.refresh_from_db()
    assert (dea.fence_state, dea.fence_pid, dea.fence_started_at) == ("RUNNING", 7001, CHANGED + timedelta(seconds=30))
    assert dea.desired_image == TARGET and dea.drift == Drift.IN_SYNC
    assert {"ref": TARGET, "id": None, "digest": DIGEST} in dea.images  # held by the pinned digest
    assert {"ref": BASE, "id": BASE_ID, "digest": None} in dea.images  # the refresh's other facts stay
    assert dea.docker_version == "1.13.1" and dea.facts_refreshed_at == REFRESHED
    assert dea.facts_verified_by_rollout == rollout.pk and dea.facts_verified_at > REFRESHED
    said = facts_source.describe(dea)
    assert f"verified by rollout {rollout.pk} at {dea.facts_verified_at:%Y-%m-%d %H:%M:%S} UTC" in said
    assert "the rest refreshed 2026-11-30 04:00:00 UTC" in said


def test_drift_is_the_refresh_functions_verdict_on_what_was_verified(cluster, dea):
    """A fence that started before the config change, written as verified,
    is still called not restarted: drift is computed, not assumed."""
    rollout = rollout_of(cluster)
    config_history.record(cluster, TARGET, CHANGED)
    verified_facts.record(step_of(rollout, dea, Phase.RESTART, TARGET), fence(7001, CHANGED - timedelta(minutes=5)))
    dea.refresh_from_db()
    assert dea.drift == Drift.NOT_RESTARTED


def test_a_name_re_pointed_before_the_rollout_is_replaced_by_what_was_verified(cluster, dea):
    Node.objects.filter(pk=dea.pk).update(images=[*dea.images, {"ref": TARGET, "id": "x", "digest": OLD_DIGEST}])
    dea.refresh_from_db()
    rollout = rollout_of(cluster)
    config_history.record(cluster, TARGET, CHANGED)
    verified_facts.record(step_of(rollout, dea, Phase.RESTART, TARGET), fence(7001, CHANGED + timedelta(seconds=5)))
    dea.refresh_from_db()
    assert [image for image in dea.images if image["ref"] == TARGET] == [{"ref": TARGET, "id": None,
                                                                          "digest": DIGEST}]
    assert dea.drift == Drift.IN_SYNC


def test_a_rollbacks_revert_step_shows_the_previous_image_again(cluster, dea):
    rollout = rollout_of(cluster)
    config_history.record(cluster, TARGET, CHANGED)
    verified_facts.record(step_of(rollout, dea, Phase.RESTART, TARGET), fence(7001, CHANGED + timedelta(seconds=5)))
    Rollout.objects.filter(pk=rollout.pk).update(status="succeeded")
    undo = rollout_of(cluster, kind=RolloutKind.ROLLBACK, target=None, target_image=BASE, target_pull=BASE)
    set_back = CHANGED + timedelta(minutes=5)
    config_history.record(cluster, BASE, set_back)  # the rollback's "config set back"

    verified_facts.record(step_of(undo, dea, Phase.REVERT, BASE), fence(7002, set_back + timedelta(seconds=5)))

    dea.refresh_from_db()
    assert (dea.fence_pid, dea.desired_image, dea.drift) == (7002, BASE, Drift.IN_SYNC)
    assert dea.facts_verified_by_rollout == undo.pk
    assert {"ref": BASE, "id": BASE_ID, "digest": None} in dea.images  # its content as the refresh read it


def test_an_image_whose_content_was_never_read_is_held_and_nothing_claimed_about_it(cluster, dea):
    Node.objects.filter(pk=dea.pk).update(images=[])
    dea.refresh_from_db()
    undo = rollout_of(cluster, kind=RolloutKind.ROLLBACK, target=None, target_image=BASE, target_pull=BASE)
    verified_facts.record(step_of(undo, dea, Phase.REVERT, BASE), fence(7002, CHANGED))
    dea.refresh_from_db()
    assert dea.images == [{"ref": BASE, "id": None, "digest": None}] and dea.drift == Drift.IN_SYNC


def test_the_next_refresh_replaces_the_rollouts_word(cluster, dea, monkeypatch):
    rollout = rollout_of(cluster)
    config_history.record(cluster, TARGET, CHANGED)
    verified_facts.record(step_of(rollout, dea, Phase.RESTART, TARGET), fence(7001, CHANGED + timedelta(seconds=5)))
    monkeypatch.setattr(remote, "endpoint", lambda node: node.address)
    monkeypatch.setattr(facts, "_collect", lambda node, session: "")  # the node read, as it is
    dea = Node.objects.select_related("cluster").get(pk=dea.pk)
    with contextlib.nullcontext(type("Pool", (), {"get": lambda self, endpoint: None})()) as pool:
        facts.refresh(dea, pool)
    dea.refresh_from_db()
    assert dea.facts_verified_at is None and dea.facts_verified_by_rollout is None
    assert facts_source.describe(dea) == f"refreshed {dea.facts_refreshed_at:%Y-%m-%d %H:%M:%S} UTC"


def test_a_failure_writing_the_picture_never_becomes_the_steps_outcome(cluster, dea, monkeypatch, caplog):
    """The restart is verified and audited before the node row is written: a
    failure there (a bug, a locked database) is logged, the row left as it was."""
    rollout = rollout_of(cluster)
    before = Node.objects.values("fence_pid", "facts_verified_at").get(pk=dea.pk)

    def broken(*args, **kwargs):
        raise ValueError("a bug in the picture")
    monkeypatch.setattr(verified_facts, "apply", broken)
    verified_facts.record(step_of(rollout, dea, Phase.RESTART, TARGET), fence(7001, CHANGED))
    assert Node.objects.values("fence_pid", "facts_verified_at").get(pk=dea.pk) == before
    assert "could not write rollout" in caplog.text and "a bug in the picture" in caplog.text
