"""One `kato config get` serves the steps of a batch (images/rollouts/
config_read.py), over real SSH to the sandbox's DEAs with the real kato:
four steps that saw their new fences at the same moment, each in its own
thread and database connection as RQ workers would be, all get the config's
value and send one read between them, not four."""
import threading

import pytest
from django.utils import timezone

from images.rollouts import config_read
from nodes import remote
from nodes.kato import Kato
from support.image_versions import BASE
from support.writers_at_once import actions_at_once

pytestmark = pytest.mark.django_db(transaction=True)


class CountedKato(Kato):
    """The real kato client, its config reads counted."""
    reads, lock = 0, threading.Lock()

    def desired_image(self, setting):
        with CountedKato.lock:
            CountedKato.reads += 1
        return super().desired_image(setting)


def test_four_steps_seeing_their_fences_at_once_share_one_config_read(rollout_sandbox, rollout_fleet):
    deas = [node for node in rollout_fleet.nodes.order_by("address") if node.is_dea]
    assert len(deas) == 4
    seen = timezone.now()

    def step_on(node):
        def verify():
            with remote.session_pool() as pool:
                return config_read.named_after(CountedKato(pool.get(remote.endpoint(node))), rollout_fleet, seen)
        return verify
    CountedKato.reads = 0
    answers = actions_at_once(*[step_on(node) for node in deas])
    assert [answer.value for answer in answers] == [BASE] * 4
    assert sum(answer.own for answer in answers) == CountedKato.reads
    assert CountedKato.reads == 1
    rollout_fleet.refresh_from_db()
    assert rollout_fleet.config_read_value == BASE and rollout_fleet.config_read_began >= seen
