"""Status changes of an image version. Queueing and claiming are conditional
UPDATEs, so two clicks (or two workers) can never start the same build twice;
the end of a job is saved with update_fields on the row the job re-read."""
from django.db.models import Q

from images.models import ImageVersion, Status
from images.models.status import EDITABLE_STATES

BUILDABLE = Q(status__in=EDITABLE_STATES, image_id="")
PUSHABLE = ~Q(image_id="") & Q(manifest_digest="") & Q(status__in=[Status.BUILT, Status.FAILED, Status.ERRORED])


def queue(version_id: int, allowed: Q) -> bool:
    """Mark queued if the row is in an allowed state; False if it is not (any more)."""
    return ImageVersion.objects.filter(allowed, pk=version_id).update(status=Status.QUEUED, status_reason="") == 1


def start(version_id: int, running: Status, allowed: Q) -> ImageVersion | None:
    """Claim a queued row for a job; None when it is not queued for this kind of job."""
    claimed = ImageVersion.objects.filter(allowed, pk=version_id, status=Status.QUEUED).update(status=running)
    return ImageVersion.objects.select_related("cluster").get(pk=version_id) if claimed else None


# What a queued row is queued for: a build has no image yet, a push has one.
QUEUED_FOR_BUILD = Q(image_id="")
QUEUED_FOR_PUSH = ~Q(image_id="")


def finish(version: ImageVersion, status: Status, reason: str = "", **fields) -> None:
    version.status = status
    version.status_reason = reason
    for name, value in fields.items():
        setattr(version, name, value)
    version.save(update_fields=["status", "status_reason", *fields])


def end_errored(version_id: int, reason: str) -> None:
    """The job lifecycle's ending of a build or push that did not run to its
    end (an exception, a lost worker): errored, so it can be built or pushed
    again. Only a row still queued, building or pushing: a finished one is kept."""
    ImageVersion.objects.filter(pk=version_id, status__in=[Status.QUEUED, Status.BUILDING, Status.PUSHING]).update(
        status=Status.ERRORED, status_reason=reason)


_RUN_STATUS = {Status.BUILT: "succeeded", Status.PUSHED: "succeeded", Status.FAILED: "failed",
               Status.ERRORED: "errored"}


def outcome(version_id: int, result: str) -> tuple[str, str]:
    """How a build or push job ended, for its JobRun: the version's status."""
    if result not in _RUN_STATUS:
        return "succeeded", result  # "not queued for a build: nothing done"
    reason = ImageVersion.objects.values_list("status_reason", flat=True).get(pk=version_id)
    return _RUN_STATUS[result], reason
