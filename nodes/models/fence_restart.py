"""The audit history of fence restarts: append-only.

Rows are written by job code (not request-bound signals) and never change:
save() refuses an update, delete() and the queryset's update()/delete()
refuse too, and the admin is read-only for everyone.
"""
import uuid

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or delete audit history."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be deleted.")

    # bulk_update goes through update(); _raw_delete is what CASCADE uses.
    def _raw_delete(self, using):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be deleted.")


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed (fence did not come up on the image)"
    ERRORED = "errored", "errored (could not run the restart)"
    TIMED_OUT = "timed_out", "timed out"


class FenceRestart(models.Model):
    node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="fence_restarts")
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.PROTECT, related_name="fence_restarts")
    node_address = models.GenericIPAddressField(protocol="IPv4", help_text="Copied: stays if the node is renumbered.")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_by_username = models.CharField(max_length=150, help_text="Copied: a deleted user keeps their history.")
    image_before = models.CharField(max_length=512, blank=True)
    image_after = models.CharField(max_length=512, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    exit_code = models.IntegerField(null=True, blank=True)
    output_excerpt = models.TextField(blank=True)
    correlation_id = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="The RQ job id / rollout id.")
    reason = models.TextField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        # The audit changelist filters by these and sorts by time; outcome,
        # correlation_id and started_at have their own db_index.
        indexes = [
            models.Index(fields=["cluster", "-started_at"], name="fencerestart_cluster_time"),
            models.Index(fields=["node", "-started_at"], name="fencerestart_node_time"),
            # The changelist's node filter is by the copied address (kept when a node is renumbered).
            models.Index(fields=["node_address", "-started_at"], name="fencerestart_address_time"),
            models.Index(fields=["requested_by_username"], name="fencerestart_username"),
        ]

    def __str__(self):
        return f"fence restart on {self.node_address} at {self.started_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Fence restart history is append-only: rows cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be deleted.")
