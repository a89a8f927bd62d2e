"""One `kato config get` serves every step that saw its new fence before the
read was sent (images/rollouts/config_read.py). The kato here is a stand-in
that counts its reads (the sandbox tests send real ones); the database is
real, and the race runs each step in its own thread and connection, as RQ
workers would."""
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from images.rollouts import config_read
from nodes.kato import KatoError
from nodes.models import Cluster
from support.counting_kato import TARGET, CountingKato
from support.writers_at_once import actions_at_once

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def cluster():
    return Cluster.objects.create(name="c1", core_address="127.0.0.11")


def test_a_read_sent_after_the_fence_was_seen_serves_the_step(cluster):
    seen = timezone.now()
    first = CountingKato()
    mine = config_read.named_after(first, cluster, seen)
    assert (mine.value, mine.own) == (TARGET, True) and mine.sent >= seen
    later = CountingKato(value="someone/else:9")
    # Seen before the first read was sent: that read proves it, nothing is sent.
    shared = config_read.named_after(later, cluster, seen)
    assert (shared.value, shared.own, shared.sent) == (TARGET, False, mine.sent)
    assert "shared with its batch" in shared.describe()
    assert (first.reads, later.reads) == (1, 0)


def test_a_read_sent_before_the_fence_was_seen_does_not(cluster):
    config_read.named_after(CountingKato(), cluster, timezone.now())
    changed = CountingKato(value="someone/else:9")
    assert config_read.named_after(changed, cluster, timezone.now() + timedelta(seconds=1)).value == "someone/else:9"
    assert changed.reads == 1
    cluster.refresh_from_db()
    assert cluster.config_read_value == "someone/else:9"


def test_a_failed_read_leaves_nothing_for_others_to_wait_on(cluster):
    seen = timezone.now()
    with pytest.raises(KatoError):
        config_read.named_after(CountingKato(error=KatoError("kato: config unreachable")), cluster, seen)
    cluster.refresh_from_db()
    assert cluster.config_read_began is None
    works = CountingKato()
    assert config_read.named_after(works, cluster, seen).value == TARGET and works.reads == 1


def test_ten_steps_that_saw_their_fences_at_once_send_one_read(cluster):
    seen = timezone.now()
    kato = CountingKato(takes=0.5)
    answers = actions_at_once(*[lambda: config_read.named_after(kato, cluster, seen)] * 10)
    assert [answer.value for answer in answers] == [TARGET] * 10
    # The first to announce its read is waited for by the others, which saw
    # their fences before it was sent: the announcement is conditional on no
    # read sent after `seen`, so of steps arriving at once one reads.
    assert kato.reads == 1


def test_a_read_under_way_is_waited_for_not_sent_again(cluster):
    seen = timezone.now()
    slow = CountingKato(takes=0.5)
    reader = threading.Thread(target=lambda: _closing(config_read.named_after, slow, cluster, seen))
    reader.start()
    assert slow.sent.wait(5)
    waiter = CountingKato(value="never/asked:1")
    assert config_read.named_after(waiter, cluster, seen) == config_read.Read(TARGET, _announced(cluster), own=False)
    reader.join()
    assert (slow.reads, waiter.reads) == (1, 0)


def _announced(cluster):
    cluster.refresh_from_db()
    return cluster.config_read_began


def _closing(function, *args):
    from django.db import connection
    try:
        function(*args)
    finally:
        connection.close()


def test_a_step_waits_for_the_read_of_a_batch_mate_that_has_not_seen_its_fence(cluster):
    """The first of two steps saw its fence while the other had not: the
    first sends nothing and takes the read the second sends once it saw its
    own, later; the last one to see its fence reads for both."""
    first_seen = timezone.now()
    kato, answer = CountingKato(), {}

    def first():
        # The mate counts as not having seen its fence until its read is sent
        # (announced before it is sent, as the product does).
        answer["first"] = config_read.named_after(kato, cluster, first_seen, others_to_see=lambda: not kato.sent.is_set())
    waiting = threading.Thread(target=lambda: _closing(first))
    waiting.start()
    waiting.join(1)
    assert waiting.is_alive() and kato.reads == 0  # still waiting for its mate
    mine = config_read.named_after(kato, cluster, timezone.now())
    waiting.join(10)
    assert mine.own and not answer["first"].own
    assert answer["first"].sent == mine.sent and answer["first"].value == TARGET
    assert kato.reads == 1
