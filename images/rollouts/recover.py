"""After workers were lost (killed, machine restarted): steps that were queued
or running without a job to carry them are queued again, and every
unfinished rollout decides anew. Steps are safe to run again (steps.py)."""
import os
import socket

from django.db import transaction
from rq import Worker

from images.models.rollout import IN_FLIGHT, UNFINISHED, Rollout, StepStatus
from images.rollouts import engine
from stackato_dash import queueing


class WorkersAlive(Exception):
    pass


def live_workers() -> list:
    """Registered workers, less those on this machine whose process is gone
    (a SIGKILLed worker stays registered until its key expires)."""
    here = socket.gethostname()
    alive = []
    for worker in Worker.all(queue=queueing.get_queue()):
        if worker.hostname == here and worker.pid and not _pid_alive(worker.pid):
            worker.register_death()
            continue
        alive.append(worker)
    return alive


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def recover(force: bool = False) -> list[str]:
    """Returns what it did, one line per rollout."""
    workers = live_workers()
    if workers and not force:
        names = ", ".join(w.name for w in workers)
        raise WorkersAlive(f"{len(workers)} worker(s) are alive ({names}); run this when the workers start, "
                           "or with --force if you know their jobs are lost.")
    waiting = set(queueing.get_queue().job_ids)
    report = []
    for rollout in Rollout.objects.filter(status__in=UNFINISHED):
        with transaction.atomic():
            orphans = [step for step in rollout.steps.filter(status__in=IN_FLIGHT) if step.job_id not in waiting]
            for step in orphans:
                step.status = StepStatus.PENDING
                step.save(update_fields=["status"])
            if orphans:
                locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
                engine.decide(locked, f"{len(orphans)} step(s) lost with their worker; queued again: "
                                      + ", ".join(f"{s.phase} on {s.node.address}" for s in orphans))
                locked.save(update_fields=["decisions"])
        engine.advance(rollout.pk)
        report.append(f"{rollout}: {len(orphans)} step(s) re-queued")
    return report
