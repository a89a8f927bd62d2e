"""The governance record of a rollout: who asked for approval, who approved
or rejected it, when a request expired, when a rollout waited for its
maintenance window or was started outside it, paused, resumed, what was
decided at a manual gate, and who cancelled it (before it started: who ended
the request). Append-only, as the fence restart audit is: rows
are written by the code that makes the change (approval.py, windows.py, the
engine), never changed or deleted (save(), delete() and the queryset refuse;
triggers refuse in SQL: images/rollout_event_triggers.py), and read-only in
the admin. The user's name is copied, so a deleted user keeps their history.

Tamper-evident as well: every row is final when written, so it is
hash-chained in the transaction that inserts it (its own chain:
nodes/audit_chain.py ROLLOUT_EVENTS); manage.py verify_audit and the audit
page's badge find a row edited, deleted or reordered behind the triggers.
"""
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from nodes import audit_chain


class RolloutEventAppendOnly(Exception):
    """An attempt to change or delete a rollout's governance record."""


class EventKind(models.TextChoices):
    APPROVAL_REQUESTED = "approval_requested", "approval requested"
    APPROVED = "approved", "approved"
    REJECTED = "rejected", "rejected"
    APPROVAL_EXPIRED = "approval_expired", "approval expired"
    WINDOW_WAITING = "window_waiting", "waiting for a maintenance window"
    WINDOW_OPENED = "window_opened", "started: maintenance window open"
    WINDOW_OVERRIDE = "window_override", "started outside its window (override)"
    PAUSED = "paused", "paused"
    RESUMED = "resumed", "resumed"
    GATE_WAITING = "gate_waiting", "waiting at a manual gate"
    GATE_CONTINUED = "gate_continued", "gate: continued"
    GATE_ROLLED_BACK = "gate_rolled_back", "gate: rolled back"
    CANCEL_REQUESTED = "cancel_requested", "cancel requested"


class RolloutEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Deleting a user sets user to NULL (on_delete=SET_NULL) through this
        # queryset; the copied username keeps the name.
        if kwargs == {"user": None}:
            return super().update(**kwargs)
        raise RolloutEventAppendOnly("A rollout's event history is append-only: rows cannot be updated.")

    def bulk_create(self, objs, *args, **kwargs):
        if kwargs.get("update_conflicts") or (len(args) >= 3 and args[2]):
            raise RolloutEventAppendOnly("A rollout's event history is append-only: no bulk_create updates.")
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            for obj in created:  # in the order given: that is their chain order
                if obj.pk is not None:
                    obj.set_chain(audit_chain.chain(self.model, obj.pk, self.db, audit_chain.ROLLOUT_EVENTS))
        return created

    def delete(self):
        raise RolloutEventAppendOnly("A rollout's event history is append-only: rows cannot be deleted.")

    def _raw_delete(self, using):
        raise RolloutEventAppendOnly("A rollout's event history is append-only: rows cannot be deleted.")


class RolloutEvent(models.Model):
    rollout = models.ForeignKey("images.Rollout", on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text="Empty when the console itself acted (expiry, a window).")
    username = models.CharField(max_length=150, blank=True, help_text="Copied: a deleted user keeps their history.")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.TextField(blank=True)
    # Set once, in the transaction that writes the row (nodes/audit_hash.py ROLLOUT_EVENT_HASHED).
    chain_seq = models.BigIntegerField(null=True, blank=True, editable=False,
                                       help_text="Position in the rollout events' hash chain (1, 2, 3, ... no gaps).")
    prev_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    objects = RolloutEventQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # so _base_manager refuses updates and deletes too
        ordering = ["-at", "-id"]
        get_latest_by = "at"
        indexes = [models.Index(fields=["rollout", "at"], name="rolloutevent_rollout_at"),
                   # The check's probe for a row outside the chain (written by SQL).
                   models.Index(fields=["id"], condition=models.Q(chain_seq__isnull=True),
                                name="rolloutevent_unchained")]
        constraints = [models.UniqueConstraint(fields=["chain_seq"], condition=models.Q(chain_seq__isnull=False),
                                               name="rolloutevent_chain_seq_unique")]

    def __str__(self):
        who = self.username or "the console"
        return f"{self.get_kind_display()} by {who} at {self.at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, rollout, kind: str, *, user=None, reason: str = "") -> "RolloutEvent":
        """The one way events are written: the user's name copied now."""
        return cls.objects.create(rollout=rollout, kind=kind, user=user,
                                  username=user.get_username() if user is not None else "", reason=reason)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RolloutEventAppendOnly("A rollout's event history is append-only: rows cannot be updated.")
        kwargs["force_insert"] = True
        with transaction.atomic(using=kwargs.get("using") or "default"):
            super().save(*args, **kwargs)
            self.set_chain(audit_chain.chain(type(self), self.pk, self._state.db, audit_chain.ROLLOUT_EVENTS))

    def set_chain(self, fields: dict) -> None:
        for name, value in fields.items():
            setattr(self, name, value)

    def delete(self, *args, **kwargs):
        raise RolloutEventAppendOnly("A rollout's event history is append-only: rows cannot be deleted.")
