"""The audit history of fence restarts: append-only.

Rows are written by job code (not request-bound signals) and never change:
save() refuses an update, delete() and the queryset's update()/delete()
refuse too (also through _base_manager, which is this queryset), and the
admin is read-only for everyone. Below the ORM, triggers refuse the same in
SQL (nodes/audit_triggers.py). The one change allowed is completing an open
row (finished_at still empty, outcome '') once: complete().

A row whose outcome is final is hash-chained in the same transaction
(chain_seq, prev_hash, row_hash: nodes/audit_chain.py, nodes/audit_hash.py);
the triggers refuse any later change of those fields.
"""
import uuid

from django.conf import settings
from django.db import models, transaction

from nodes import audit_chain


class AppendOnlyError(Exception):
    """An attempt to change or delete audit history."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Deleting a user sets requested_by to NULL (on_delete=SET_NULL) through
        # this queryset; the copied requested_by_username keeps the name.
        if kwargs == {"requested_by": None}:
            return super().update(**kwargs)
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be updated.")

    def bulk_create(self, objs, *args, **kwargs):
        if kwargs.get("update_conflicts") or (len(args) >= 3 and args[2]):
            raise AppendOnlyError("Fence restart history is append-only: bulk_create cannot update existing rows.")
        objs = list(objs)
        for obj in objs:
            obj.copy_names()
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            for obj in created:  # in the order given: that is their chain order
                if obj.finished_at is not None and obj.pk is not None:
                    obj.set_chain(audit_chain.chain(self.model, obj.pk, self.db))
        return created

    def delete(self):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be deleted.")

    # bulk_update goes through update(); _raw_delete is what CASCADE uses.
    def _raw_delete(self, using):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be deleted.")

    def _complete_open(self, pk, **completion) -> int:
        """The write-ahead audit's one change: an open row's outcome, once
        (the triggers allow exactly this in SQL). Returns the rows changed."""
        return models.QuerySet.update(self.filter(pk=pk, finished_at__isnull=True), **completion)


class Outcome(models.TextChoices):
    # An open row: written ahead of the restart command, not completed yet
    # (or its worker or connection was lost); completed once someone looks.
    UNKNOWN = "", "outcome unknown"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed (fence did not come up on the image)"
    ERRORED = "errored", "errored (could not run the restart)"
    TIMED_OUT = "timed_out", "timed out"
    # Found when an open row was looked at: no fence process started since it was opened.
    NOT_RESTARTED = "not_restarted", "not restarted (no new fence process)"
    # The command was sent, then an error stopped the check of what it did.
    UNVERIFIED = "unverified", "sent, not verified (error after the restart command)"


class FenceRestart(models.Model):
    node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="fence_restarts")
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.PROTECT, related_name="fence_restarts")
    cluster_name = models.CharField(max_length=100, blank=True,
                                    help_text="Copied: renaming the cluster does not rewrite its history.")
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
    # Set once, when the outcome is final (nodes/audit_hash.py says how the hash is made).
    chain_seq = models.BigIntegerField(null=True, blank=True, editable=False,
                                       help_text="Position in the audit's hash chain (1, 2, 3, ... with no gaps).")
    prev_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # so _base_manager refuses updates and deletes too
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        # The audit changelist filters by these and sorts by time; outcome,
        # correlation_id and started_at have their own db_index.
        indexes = [
            models.Index(fields=["cluster", "-started_at"], name="fencerestart_cluster_time"),
            models.Index(fields=["node", "-started_at"], name="fencerestart_node_time"),
            # The changelist's node filter is by the copied address (kept when a node is renumbered).
            models.Index(fields=["node_address", "-started_at"], name="fencerestart_address_time"),
            # The user and outcome filters, newest first: the page reads 100
            # index entries instead of sorting every matching row. The username
            # one also lists the distinct names (nodes/admin/audit_filters.py).
            models.Index(fields=["requested_by_username", "-started_at"], name="fencerestart_username_time"),
            models.Index(fields=["outcome", "-started_at"], name="fencerestart_outcome_time"),
            # The audit page's chain check: "is any final row outside the chain?" in one index probe.
            models.Index(fields=["id"], name="fencerestart_unchained",
                         condition=models.Q(finished_at__isnull=False, chain_seq__isnull=True)),
        ]
        constraints = [
            # Two workers can never take the same predecessor; also the chain's order and head.
            models.UniqueConstraint(fields=["chain_seq"], name="fencerestart_chain_seq_unique",
                                    condition=models.Q(chain_seq__isnull=False)),
        ]

    def __str__(self):
        return f"fence restart on {self.node_address} at {self.started_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"

    @property
    def is_open(self) -> bool:
        """Written ahead of the restart, not completed yet."""
        return self.finished_at is None

    def copy_names(self) -> None:
        if not self.cluster_name and self.cluster_id:
            self.cluster_name = self.cluster.name

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Fence restart history is append-only: rows cannot be updated.")
        self.copy_names()
        kwargs["force_insert"] = True
        with transaction.atomic(using=kwargs.get("using") or "default"):
            super().save(*args, **kwargs)
            if self.finished_at is not None:  # written complete: chained at once
                self.set_chain(audit_chain.chain(type(self), self.pk, self._state.db))

    def set_chain(self, fields: dict) -> None:
        for name, value in fields.items():
            setattr(self, name, value)

    def complete(self, *, outcome: str, finished_at, exit_code=None, output_excerpt: str = "") -> None:
        """Set the outcome of a row written ahead; refused if it has one already."""
        if not outcome:
            raise ValueError("an outcome is required to complete a fence restart row")
        completion = {"outcome": outcome, "finished_at": finished_at, "exit_code": exit_code,
                      "output_excerpt": output_excerpt}
        with transaction.atomic(using=self._state.db):
            if not type(self).objects.all()._complete_open(self.pk, **completion):
                raise AppendOnlyError("Fence restart history is append-only: this row is already complete.")
            self.set_chain(audit_chain.chain(type(self), self.pk, self._state.db))
        for name, value in completion.items():
            setattr(self, name, value)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Fence restart history is append-only: rows cannot be deleted.")
