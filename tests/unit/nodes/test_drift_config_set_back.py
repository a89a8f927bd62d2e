"""Drift after the config went to a target and back (issue 10): a fence
runs the image the config named when it started, so a DEA a rollback never
restarted runs the image the config names again and is in sync, while a
fence started while the target was configured is not. The config is changed
through the rollout's own config step (steps.set_config; kato stubbed) and
seen by the facts refresh (facts.note_desired_image), on a clock the test
moves."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from images.models.rollout import Phase, Rollout, RolloutKind, RolloutStep
from images.rollouts import steps
from nodes import config_history, facts
from nodes.drift import classify
from nodes.facts import note_desired_image
from nodes.models import Cluster, Node
from nodes.models.node import Drift
from support.config_kato import FakeKato

pytestmark = pytest.mark.django_db

BASE = "stackato/app-holophonor:3.0.0"
TARGET = "127.0.0.11:5000/app:2"
OTHER = "exampleco/other:1"
START = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.moment = START

    def now(self):
        return self.moment

    def at(self, minutes: int) -> datetime:
        self.moment = START + timedelta(minutes=minutes)
        return self.moment


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    for module in (steps, facts):
        monkeypatch.setattr(module, "timezone", SimpleNamespace(now=clock.now))
    monkeypatch.setattr(steps, "Kato", FakeKato)
    FakeKato.config = {"image": BASE}
    return clock


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"])
    note_desired_image(cluster, BASE)  # the first refresh: a value found, not dated
    return cluster


def set_config(cluster, image: str, phase=Phase.CONFIG, kind=RolloutKind.ROLLOUT) -> None:
    """The rollout's config step (a rollback's "config set back" with REVERT_CONFIG)."""
    rollout = Rollout.objects.create(cluster=cluster, target_image=image, target_pull=image, kind=kind,
                                     requested_by_username="ops", reason="test")
    step = RolloutStep.objects.create(rollout=rollout, node=cluster.core_node, phase=phase, image=image)
    steps.set_config(step, session=None)
    Rollout.objects.filter(pk=rollout.pk).update(status="rolled_back")  # one unfinished rollout per cluster


def drift_of(cluster, fence_started_at: datetime) -> str:
    """A DEA running fence since fence_started_at, refreshed now."""
    cluster.refresh_from_db()
    node = Node(cluster=cluster, address="10.0.0.12", roles=["dea"], host_key_type="ssh-ed25519", host_key="AAAA",
                reachable=True, desired_image=cluster.desired_image, fence_state="RUNNING",
                fence_started_at=fence_started_at,
                images=[{"ref": ref, "id": f"sha256:{n}"} for n, ref in enumerate((BASE, TARGET, OTHER))])
    return classify(node)


def test_a_dea_the_rollback_never_restarted_is_in_sync(cluster, clock):
    untouched = clock.at(0)
    clock.at(10)
    set_config(cluster, TARGET)  # the rollout sets the target; a canary fails
    canary = clock.at(11)  # restarted onto the target...
    clock.at(12)
    set_config(cluster, BASE, phase=Phase.REVERT_CONFIG)  # ... the config set back
    reverted = clock.at(13)  # ... and the canary restarted back
    assert drift_of(cluster, untouched) == Drift.IN_SYNC  # never left BASE
    assert drift_of(cluster, reverted) == Drift.IN_SYNC
    # A fence that (re)started while the target was configured runs the target: true drift.
    assert drift_of(cluster, canary) == Drift.NOT_RESTARTED


def test_setting_the_config_back_does_not_hide_a_drift_from_before_the_rollout(cluster, clock):
    clock.at(0)
    missed = clock.now()
    clock.at(5)
    FakeKato.config["image"] = OTHER  # someone sets the config by hand: a refresh sees it
    note_desired_image(cluster, OTHER)
    clock.at(20)
    set_config(cluster, TARGET)
    clock.at(21)
    set_config(cluster, OTHER, phase=Phase.REVERT_CONFIG)
    # Its fence started before OTHER was configured: it still runs what it read then.
    assert drift_of(cluster, missed) == Drift.NOT_RESTARTED


@pytest.mark.parametrize("kind", [RolloutKind.ROLLOUT, RolloutKind.ROLLBACK])
def test_back_to_an_earlier_version_by_a_new_rollout_or_an_undo(cluster, clock, kind):
    """The rollout to TARGET was stopped after one node (cancel "stop here");
    rolling back to BASE (a rollout of the earlier version, or Undo) names
    BASE again: the node it never reached is in sync, the switched one is
    not, until its fence restarts."""
    untouched = clock.at(0)
    clock.at(10)
    set_config(cluster, TARGET)
    switched = clock.at(11)
    clock.at(30)
    set_config(cluster, BASE, kind=kind)
    assert drift_of(cluster, untouched) == Drift.IN_SYNC
    assert drift_of(cluster, switched) == Drift.NOT_RESTARTED
    assert drift_of(cluster, clock.at(31)) == Drift.IN_SYNC


def test_the_refresh_dates_a_change_it_did_not_make_and_sees_a_value_back(cluster, clock):
    """The same from changes only a refresh saw (made outside the console)."""
    untouched = clock.at(0)
    clock.at(10)
    note_desired_image(cluster, TARGET)
    during = clock.at(11)
    clock.at(12)
    note_desired_image(cluster, BASE)
    assert drift_of(cluster, untouched) == Drift.IN_SYNC
    assert drift_of(cluster, during) == Drift.NOT_RESTARTED


def test_a_fence_older_than_the_kept_history_counts_as_not_restarted(cluster, clock):
    """Past the last KEPT values, what a fence read is not known: it is not
    claimed to be in sync."""
    untouched = clock.at(0)
    for change in range(config_history.KEPT):  # TARGET, BASE, ..., BASE
        clock.at(10 + change)
        note_desired_image(cluster, (TARGET, BASE)[change % 2])
    cluster.refresh_from_db()
    assert cluster.desired_image == BASE and len(cluster.desired_image_history) == config_history.KEPT
    assert drift_of(cluster, untouched) == Drift.NOT_RESTARTED
    assert drift_of(cluster, clock.at(60)) == Drift.IN_SYNC
