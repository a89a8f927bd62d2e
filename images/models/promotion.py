"""One promotion of an image version from the cluster where it succeeded to
another cluster, by its manifest digest: the copy job's row (its id is the
RQ job's), with its log written line by line. Its status is the job
lifecycle's (job_runs); the version it made on the target cluster is
`target`, set only once the target registry serves the same digest."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from job_runs.models import UNFINISHED, RunStatus


class Promotion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey("images.ImageVersion", on_delete=models.PROTECT, related_name="promotions",
                               help_text="The version promoted: it succeeded on its own cluster.")
    source_rollout = models.ForeignKey("images.Rollout", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", help_text="The succeeded rollout that qualified it.")
    target_cluster = models.ForeignKey("nodes.Cluster", on_delete=models.PROTECT, related_name="promotions_in")
    target = models.OneToOneField("images.ImageVersion", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="promoted_from",
                                  help_text="The version on the target cluster, identified by the same digest.")
    digest = models.CharField(max_length=100, help_text="The manifest digest copied; the target must serve it.")
    source_reference = models.CharField(max_length=512)
    target_reference = models.CharField(max_length=512)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_by_username = models.CharField(max_length=150, help_text="Copied: a deleted user keeps the record.")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    status_reason = models.TextField(blank=True)
    log = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # rules.refusal() reads "already queued or running" before the
            # insert; two requests at once both pass that read, the database
            # lets one row in (rules.request turns the other into the refusal).
            models.UniqueConstraint(fields=["source", "target_cluster"], condition=models.Q(status__in=UNFINISHED),
                                    name="one_unfinished_promotion_per_version_and_cluster"),
        ]

    def __str__(self):
        return f"promotion of {self.source} to {self.target_cluster} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in UNFINISHED

    def append(self, line: str) -> None:
        """Appended in the database, so the page shows each line as it comes."""
        line = line.replace("\x00", "\ufffd").rstrip("\n")
        type(self).objects.filter(pk=self.pk).update(log=Concat(F("log"), Value(line + "\n")))

    def finish(self, status: str, reason: str = "", target=None) -> None:
        self.status, self.status_reason, self.finished_at = status, reason, timezone.now()
        fields = ["status", "status_reason", "finished_at"]
        if target is not None:
            self.target = target
            fields.append("target")
        self.save(update_fields=fields)
