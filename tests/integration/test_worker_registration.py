"""A killed worker stops counting as alive within RQ_WORKER_TTL + 60 s (RQ's
fixed margin), not RQ's default 8 minutes: until then the console queued
builds and rollouts "to" a worker that the OOM killer had ended, and
nothing ran them. A real `manage.py rqworker` (the command README gives)
is registered, SIGKILLed, and the console's own check then refuses."""
import pytest
from django.conf import settings
from rq import Worker

from stackato_dash import queueing
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

pytestmark = pytest.mark.django_db(transaction=True)


def _refused() -> str:
    try:
        queueing.require_worker()
    except queueing.NoWorker as refusal:
        return str(refusal)
    return ""


def test_a_killed_worker_stops_counting_as_alive_within_its_ttl(clean_queue):
    worker = start_worker()
    try:
        wait_until_registered(worker)
        listed = next(w for w in Worker.all(queue=clean_queue) if w.pid == worker.pid)
        # RQ keeps a worker's key for its TTL + 60 s after each beat; the
        # command line's --worker-ttl default (420) does not win over the setting.
        assert 0 < clean_queue.connection.ttl(listed.key) <= settings.RQ_WORKER_TTL + 60
        assert _refused() == "", "the console refused while the worker was alive"
    finally:
        kill_worker(worker)  # SIGKILL: no chance to record its own death
    refusal = wait_until(_refused, "the console to refuse with no live worker",
                         timeout=settings.RQ_WORKER_TTL + 60 + 30, interval=1)
    assert "No RQ worker is running" in refusal
