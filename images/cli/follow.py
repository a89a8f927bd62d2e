"""Following a rollout or a build/push from a terminal until it ends: the
rows are the source of truth, so this reads them every few seconds (the
console page polls the same way)."""
import time

from django.core.management.base import CommandError
from django.db.models import Count

from images.models import BuildLogLine, ImageVersion, Promotion, Rollout
from images.models.rollout import DONE, NOT_STARTED, RolloutStatus
from images.models.status import RUNNING_STATES, Status
from images.rollouts.governance import waiting_for
from job_runs.models import RunStatus

TIMED_OUT = 3  # exit status: still running when --timeout ran out
# Exit status of `rollout wait` (and start --wait) when the rollout waits on a
# person (approval, a manual gate) or a maintenance window: a pipeline is not
# held for hours.
WAITS_ON_PEOPLE_EXIT = 4
WAITS_ON_PEOPLE = (*NOT_STARTED, RolloutStatus.AWAITING_GATE)


def describe_rollout(rollout) -> dict:
    steps = {}
    for row in rollout.steps.values("phase", "status").annotate(n=Count("pk")).order_by("phase", "status"):
        steps.setdefault(row["phase"], {})[row["status"]] = row["n"]
    return {"id": str(rollout.pk), "cluster": rollout.cluster.name, "kind": rollout.kind, "status": rollout.status,
            "status_reason": rollout.status_reason, "target_image": rollout.target_image,
            "previous_image": rollout.previous_image, "requested_by": rollout.requested_by_username,
            "reason": rollout.reason, "finished": rollout.is_finished, "steps": steps,
            "created_at": rollout.created_at, "finished_at": rollout.finished_at,
            # Paused keeps its status (activating...): said apart, as on the rollout's page.
            "paused": rollout.paused and not rollout.is_finished,
            "waiting_for": waiting_for(rollout)}


def rollout_text(document: dict) -> str:
    steps = "; ".join(f"{phase}: " + ", ".join(f"{n} {status}" for status, n in counts.items())
                      for phase, counts in document["steps"].items()) or "no steps yet"
    reason = f" ({document['status_reason']})" if document["status_reason"] else ""
    if document.get("waiting_for"):
        reason = f" ({document['waiting_for']})"
    paused = ", paused (no further step starts until it is resumed)" if document.get("paused") else ""
    return (f"rollout {document['id']} on {document['cluster']}: {document['status']}{paused}{reason}\n"
            f"  {document['previous_image'] or '?'} -> {document['target_image']}\n  {steps}")


def wait_for_rollout(rollout_id, output, *, timeout: float, interval: float, keep_waiting: bool = False) -> Rollout:
    """Until it ends. A rollout awaiting approval, its window or its manual
    gate ends the wait at once with WAITS_ON_PEOPLE_EXIT, unless keep_waiting
    (then --timeout bounds it)."""
    deadline = time.monotonic() + timeout
    while True:
        rollout = Rollout.objects.select_related("cluster").get(pk=rollout_id)
        total = rollout.steps.count()
        done = rollout.steps.filter(status__in=DONE).count()
        last = rollout.decisions.strip().rsplit("\n", 1)[-1] if rollout.decisions.strip() else ""
        output.progress(done, total, f"{rollout.status}: {last}" if last else rollout.status)
        if rollout.is_finished:
            return rollout
        if rollout.status in WAITS_ON_PEOPLE and not keep_waiting:
            raise CommandError(f"{rollout} is {waiting_for(rollout)}. Not waiting for that "
                               "(--keep-waiting waits, up to --timeout).", returncode=WAITS_ON_PEOPLE_EXIT)
        if time.monotonic() >= deadline:
            raise CommandError(f"{rollout} is still {rollout.status} after {timeout:g} s.", returncode=TIMED_OUT)
        time.sleep(interval)


def wait_for_version(version_id, output, *, timeout: float, interval: float) -> ImageVersion:
    """Prints the build or push log as it is written, then the outcome."""
    deadline = time.monotonic() + timeout
    printed = 0
    while True:
        version = ImageVersion.objects.select_related("cluster").get(pk=version_id)
        for number, text in (BuildLogLine.objects.filter(version_id=version_id, number__gt=printed)
                             .order_by("number").values_list("number", "text")):
            output.line(text)
            printed = number
        if version.status not in RUNNING_STATES:
            return version
        if time.monotonic() >= deadline:
            raise CommandError(f"{version} is still {version.status} after {timeout:g} s.", returncode=TIMED_OUT)
        time.sleep(interval)


def describe_version(version) -> dict:
    return {"id": version.pk, "cluster": version.cluster.name, "name": str(version), "status": version.status,
            "status_reason": version.status_reason, "from": version.from_reference, "image_id": version.image_id,
            "registry_reference": version.registry_reference, "manifest_digest": version.manifest_digest,
            "ok": version.status not in (Status.FAILED, Status.ERRORED)}


def wait_for_promotion(promotion_id, output, *, timeout: float, interval: float) -> Promotion:
    """Prints the copy job's log as it is written, then the outcome."""
    deadline = time.monotonic() + timeout
    printed = 0
    while True:
        promotion = Promotion.objects.select_related("source", "target_cluster").get(pk=promotion_id)
        lines = promotion.log.splitlines()
        for text in lines[printed:]:
            output.line(text)
        printed = len(lines)
        if not promotion.is_running:
            return promotion
        if time.monotonic() >= deadline:
            raise CommandError(f"{promotion} is still {promotion.status} after {timeout:g} s.", returncode=TIMED_OUT)
        time.sleep(interval)


def describe_promotion(promotion) -> dict:
    return {"id": str(promotion.pk), "source": promotion.source_id, "source_name": str(promotion.source),
            "target_cluster": promotion.target_cluster.name, "status": promotion.status,
            "status_reason": promotion.status_reason, "digest": promotion.digest,
            "target_reference": promotion.target_reference, "target": promotion.target_id,
            "ok": promotion.status not in (RunStatus.FAILED, RunStatus.ERRORED)}
