"""The config read in the rolling window after the first batch (engine.py):
a step that saw its fence does not wait for the steps still running (no slot
would free, and the window would move in lock-step like batches); it waits
at most config_read.SHARE_FOR for a read sent after its fence was seen, and
one read serves the steps that saw theirs within it; with no other step
running that has not seen its fence, it reads at once. In the first batch a
step still waits for a mate that has not seen its fence (one read a batch).
The kato is a counting stand-in; the rows and the race are real, each step
in its own thread and database connection as RQ workers would be."""
from datetime import timedelta

import pytest
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStep, StepStatus
from images.rollouts import config_read, steps
from nodes.models import Cluster, Node
from support.counting_kato import TARGET, CountingKato
from support.writers_at_once import actions_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="c1", core_address="10.0.0.11")


def restart_step(rollout, address, batch, seen=None):
    node = Node.objects.create(cluster=rollout.cluster, address=address, roles=["dea"])
    return RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.RESTART, batch=batch, image=TARGET,
                                      status=StepStatus.RUNNING, attempt=1, fence_seen_at=seen)


@pytest.fixture
def rollout(cluster):
    return Rollout.objects.create(cluster=cluster, target_image=TARGET, target_pull=TARGET, previous_image="a/b:1",
                                  requested_by_username="ops", reason="r", canaries=1, max_in_flight="2",
                                  status="activating")


def test_in_the_window_a_running_step_that_has_not_seen_its_fence_is_not_waited_for(rollout):
    long_ago = timezone.now() - config_read.SHARE_FOR - timedelta(seconds=1)
    mine = restart_step(rollout, "10.0.0.22", batch=1, seen=long_ago)
    restart_step(rollout, "10.0.0.23", batch=2)  # running, fence not seen yet
    assert steps._others_to_see(mine, long_ago)() is False
    assert steps._others_to_see(mine, timezone.now())() is True  # within SHARE_FOR: a read may still serve it


def test_in_the_window_a_step_with_no_other_running_reads_at_once(rollout):
    """One worker (or the last steps): nobody else will read, so waiting
    SHARE_FOR would only slow each restart (the bench's 1-worker run)."""
    now = timezone.now()
    mine = restart_step(rollout, "10.0.0.22", batch=1, seen=now)
    restart_step(rollout, "10.0.0.23", batch=2, seen=now)  # running, but its fence seen: it reads for itself
    queued = restart_step(rollout, "10.0.0.24", batch=2)
    RolloutStep.objects.filter(pk=queued.pk).update(status=StepStatus.QUEUED)  # not on a worker yet
    assert steps._others_to_see(mine, now)() is False


def test_in_the_first_batch_a_mate_that_has_not_seen_its_fence_is_waited_for(rollout):
    long_ago = timezone.now() - config_read.SHARE_FOR - timedelta(seconds=1)
    canary = restart_step(rollout, "10.0.0.21", batch=0, seen=long_ago)
    restart_step(rollout, "10.0.0.24", batch=0)
    assert steps._others_to_see(canary, long_ago)() is True


def test_two_window_steps_seen_within_share_for_send_one_read_while_a_third_still_runs(rollout, cluster):
    first_seen = timezone.now()
    first = restart_step(rollout, "10.0.0.22", batch=1, seen=first_seen)
    second_seen = first_seen + timedelta(milliseconds=100)
    second = restart_step(rollout, "10.0.0.23", batch=1, seen=second_seen)
    restart_step(rollout, "10.0.0.24", batch=2)  # never sees its fence here: under batches both would wait 10 s
    kato = CountingKato()

    def verify(step, seen):
        return lambda: config_read.named_after(kato, cluster, seen, steps._others_to_see(step, seen))
    answers = actions_at_once(verify(first, first_seen), verify(second, second_seen))
    assert [answer.value for answer in answers] == [TARGET, TARGET]
    assert kato.reads == 1 and sorted(answer.own for answer in answers) == [False, True]
    # Under the first batch's rule both would wait for the third until
    # config_read.WAIT, then each read for itself: two reads.
    assert answers[0].sent >= second_seen
