"""One row per RQ job, whatever the job does (NetBox's core Job): the one
lifecycle every job shares (job_runs/lifecycle.py) and what the reconciler
compares with RQ's registries (job_runs/reconciler.py).

The domain rows (an image version's build status, a rollout step, a
registry provisioning) keep their own status; this row says whether the job
itself ran, and is where a lost or crashed job is found."""
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed (ran and did not do its job)"
    ERRORED = "errored", "errored (could not run)"


UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


class JobRun(models.Model):
    rq_job_id = models.CharField(max_length=64, unique=True)
    func_name = models.CharField(max_length=200, help_text="The job's entry point, as RQ names it.")
    object_id = models.CharField(max_length=64, help_text="The primary key the job was given.")
    description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    reason = models.TextField(blank=True)
    worker_name = models.CharField(max_length=200, blank=True)
    # The process running the body (RQ's work horse, in a process group of
    # its own: it can outlive a killed worker and still be working).
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started it.")
    enqueued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat = models.DateTimeField(null=True, blank=True, help_text="The RQ worker's last heartbeat for it.")

    class Meta:
        ordering = ["-enqueued_at"]

    def __str__(self):
        return f"{self.description or self.func_name} ({self.status})"
