"""Status of an image version, grouped like NetBox's core/choices.py."""
from django.db import models


class Status(models.TextChoices):
    DRAFT = "draft", "draft"
    QUEUED = "queued", "queued"
    BUILDING = "building", "building"
    BUILT = "built", "built"
    PUSHING = "pushing", "pushing"
    PUSHED = "pushed", "pushed"
    FAILED = "failed", "failed (a step ran and failed)"
    ERRORED = "errored", "errored (could not run)"


# A worker owns the row: nobody else may change it.
RUNNING_STATES = (Status.QUEUED, Status.BUILDING, Status.PUSHING)
# Where a job leaves the row.
TERMINAL_STATES = (Status.BUILT, Status.PUSHED, Status.FAILED, Status.ERRORED)
BAD_ENDINGS = (Status.FAILED, Status.ERRORED)
# Where the definition (FROM, RUN steps, CMD, name) may still change: nothing
# has been built from it yet. A failed or errored build can be fixed and rerun.
EDITABLE_STATES = (Status.DRAFT, Status.FAILED, Status.ERRORED)
