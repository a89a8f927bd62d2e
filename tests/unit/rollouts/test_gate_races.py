"""Two Release managers pressing at the same waiting rollout at the same
moment (images/rollouts/manual_gate.py, pause.py): each in its own thread
with its own database connection, released together. Whichever order the
database gives them, exactly one choice is recorded (on the row and as one
RolloutEvent) and the rollout's decision is queued once; the other is
refused with the reason. Real Redis (an idle registered worker: the queued
jobs are counted, not run)."""

import pytest

from images.models.rollout import GateDecision, Rollout, RolloutStatus
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts import manual_gate, pause
from nodes.models import Cluster
from support.writers_at_once import actions_at_once

pytestmark = pytest.mark.django_db(transaction=True)

REFUSALS = (manual_gate.GateRefused, pause.PauseRefused)


@pytest.fixture
def managers(django_user_model):
    return [django_user_model.objects.create_user(name, is_staff=True) for name in ("alice", "bob")]


def at_the_gate(**fields) -> Rollout:
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    return Rollout.objects.create(cluster=cluster, target_image="reg:5000/app:2", target_pull="reg:5000/app:2",
                                  previous_image="reg:5000/app:1", requested_by_username="alice", reason="fix",
                                  status=RolloutStatus.AWAITING_GATE, manual_gate=True, **fields)


def at_once(*actions) -> list:
    """Each action in its own thread and database connection, released together."""
    return actions_at_once(*actions, refusals=REFUSALS)


def events(rollout) -> list[tuple[str, str]]:
    return list(RolloutEvent.objects.filter(rollout=rollout).values_list("kind", "username"))


def test_continue_and_roll_back_pressed_at_once_have_one_effect(managers, worker):
    alice, bob = managers
    rollout = at_the_gate()
    results = at_once(lambda: manual_gate.choose(rollout, GateDecision.CONTINUE, user=alice),
                      lambda: manual_gate.choose(rollout, GateDecision.ROLL_BACK, user=bob))
    refused = [r for r in results if isinstance(r, manual_gate.GateRefused)]
    assert len(refused) == 1 and "was already chosen at its gate" in str(refused[0]), results
    stored = Rollout.objects.get(pk=rollout.pk)
    winner = (GateDecision.CONTINUE, "alice") if refused[0] is results[1] else (GateDecision.ROLL_BACK, "bob")
    assert stored.gate_decision == winner[0]
    kind = {GateDecision.CONTINUE: EventKind.GATE_CONTINUED, GateDecision.ROLL_BACK: EventKind.GATE_ROLLED_BACK}
    assert events(rollout) == [(kind[winner[0]], winner[1])]
    assert worker.count == 1  # the rollout acts on the one choice once


def test_a_pause_pressed_twice_at_once_is_recorded_once(managers, worker):
    alice, bob = managers
    rollout = at_the_gate()
    results = at_once(lambda: pause.pause(rollout, user=alice), lambda: pause.pause(rollout, user=bob))
    refused = [r for r in results if isinstance(r, pause.PauseRefused)]
    assert len(refused) == 1 and "it is already paused" in str(refused[0]), results
    assert Rollout.objects.get(pk=rollout.pk).paused
    assert [kind for kind, _ in events(rollout)] == [EventKind.PAUSED]
    assert worker.count == 0  # a pause queues nothing
