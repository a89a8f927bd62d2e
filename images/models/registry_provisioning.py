"""One run of "Provision registry" on a cluster's Core node: the job's row
(its id is the RQ job's), with its log written line by line as it runs.
Its status is the job lifecycle's (job_runs: queued, running, succeeded,
failed, errored); the JobRun under the same id says whether the job itself
ran, and the reconciler ends a row whose worker died (jobs.provision_registry's
on_lost hook)."""
import uuid

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from job_runs.models import UNFINISHED, RunStatus


class RegistryProvisioning(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.CASCADE, related_name="registry_provisionings")
    image = models.CharField(max_length=512, help_text="REGISTRY_IMAGE when it was queued.")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    status_reason = models.TextField(blank=True)
    location = models.CharField(max_length=255, blank=True, help_text="host:port recorded on the cluster.")
    log = models.TextField(blank=True)
    requested_by_username = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"registry on {self.cluster} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in UNFINISHED

    def append(self, line: str) -> None:
        """Append in the database (not a read-modify-write), so the page
        polling this row sees each line as soon as it is written."""
        line = line.replace("\x00", "\ufffd").rstrip("\n")
        type(self).objects.filter(pk=self.pk).update(log=Concat(F("log"), Value(line + "\n")))

    def finish(self, status: str, reason: str = "", location: str = "") -> None:
        self.status, self.status_reason, self.location = status, reason, location
        self.finished_at = timezone.now()
        self.save(update_fields=["status", "status_reason", "location", "finished_at"])
