"""One rollout by the console, timed from rollout_version() to its end,
with what each phase's steps took and the audit it left."""
import statistics
import time

TIMEOUT = 1800


def run(version, user, *, nodes: int, health_wait: int, max_in_flight: str, canaries: int = 1) -> dict:
    from images.models.rollout import Rollout, RolloutStatus, StepStatus
    from images.rollouts.start import rollout_version
    from nodes.models.fence_restart import FenceRestart, Outcome
    began = time.monotonic()
    rollout = rollout_version(version, user=user, reason="bench: rollout vs ansible", canaries=canaries,
                              max_in_flight=max_in_flight, health_wait=health_wait)
    while not Rollout.objects.filter(pk=rollout.pk, finished_at__isnull=False).exists():
        if time.monotonic() - began > TIMEOUT:
            raise RuntimeError(f"rollout {rollout.pk} did not finish within {TIMEOUT} s")
        time.sleep(0.1)  # the bench watching the clock, not a synchronisation inside the product
    seconds = time.monotonic() - began
    rollout.refresh_from_db()
    phases = {}
    for step in rollout.steps.all():
        if step.started_at and step.finished_at:
            phases.setdefault(step.phase, []).append((step.finished_at - step.started_at).total_seconds())
    audit = FenceRestart.objects.filter(correlation_id=rollout.pk)
    # `kato config get` sent to verify the restarts: the others shared a batch mate's (config_read.py).
    config_reads = rollout.steps.filter(output__contains="config names", phase="restart").exclude(
        output__contains="shared with its batch").count()
    verified = audit.filter(outcome=Outcome.SUCCEEDED).count()
    bad = [f"{s.node.address} {s.phase}: {s.output[:200]}" for s in rollout.steps.exclude(status=StepStatus.SUCCEEDED)]
    return {
        "side": "ours", "seconds": round(seconds, 2), "status": rollout.status, "reason": rollout.status_reason,
        "ok": rollout.status == RolloutStatus.SUCCEEDED and verified == nodes,
        "audit_rows": audit.count(), "verified_restarts": verified, "config_reads": config_reads, "problems": bad[:5],
        "steps": {phase: {"count": len(times), "mean_s": round(statistics.mean(times), 2),
                          "max_s": round(max(times), 2)} for phase, times in phases.items()},
    }
