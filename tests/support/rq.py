"""Run what the console queued, with a real Redis and an RQ worker in burst
mode in this process (NetBox's pattern), so jobs see the test database."""
import threading

import django_rq
from django.conf import settings

# The project's worker class, reading jobs as JSON like every real worker.
from stackato_dash.rq_worker import JSONSimpleWorker as SimpleWorker


def run_queued_jobs() -> None:
    """Every queue's jobs (rollouts' and notifications'), until all are empty."""
    queues = [django_rq.get_queue(name) for name in settings.RQ_QUEUES]
    SimpleWorker(queues, connection=queues[0].connection).work(burst=True)


_LIVING: set = set()  # idle workers born and not yet dead, in this process


def end_idle_workers() -> None:
    """Record the death of every idle worker a test left alive (one that
    failed before its register_death()): otherwise it beats on for the rest
    of the session and later tests see a worker alive."""
    for worker in list(_LIVING):
        worker.register_death()


class IdleWorker(SimpleWorker):
    """A registered worker that takes no job but beats its heartbeat like a
    real idle one (a thread, every beat_interval s) until register_death():
    otherwise its key expires after RQ's worker TTL (420 s + 60) and a long
    test's later actions are refused with "no worker alive"."""

    def __init__(self, *args, beat_interval: float = 30, **kwargs):
        super().__init__(*args, **kwargs)
        self.beat_interval = beat_interval
        self._stop_beating = threading.Event()
        self._beating = None

    def register_birth(self):
        super().register_birth()
        _LIVING.add(self)
        self._beating = threading.Thread(target=self._beat, name=f"heartbeat {self.name}", daemon=True)
        self._beating.start()

    def _beat(self):
        while not self._stop_beating.wait(self.beat_interval):
            self.heartbeat()

    def register_death(self):
        _LIVING.discard(self)
        self._stop_beating.set()
        if self._beating is not None:
            self._beating.join()  # no beat lands after the death is recorded
        super().register_death()


def register_idle_worker(beat_interval: float = 30) -> IdleWorker:
    """A registered worker, alive for as long as the test holds it, so the
    console's "is a worker alive?" check passes while the test runs the jobs
    itself with run_queued_jobs(). End it with register_death()."""
    queue = django_rq.get_queue("default")
    worker = IdleWorker([queue], connection=queue.connection, beat_interval=beat_interval)
    worker.register_birth()
    return worker
