"""What is known about the audit's hash chain: how far it was verified (and
the hash there), and the first break found, if any. One row per chain (pk 1:
fence restarts, pk 2: rollout events; nodes/audit_chain.py ChainSpec.check_pk),
written by the audit page's incremental check and by manage.py verify_audit.

A break stays recorded until a full verify_audit finds the chain whole again
(a backup restored, say): a later incremental check cannot unsee it."""
from django.db import models

from nodes.audit_hash import GENESIS


class AuditChainCheck(models.Model):
    verified_seq = models.BigIntegerField(default=0, help_text="Chain rows 1..this were found intact.")
    verified_hash = models.CharField(max_length=64, default=GENESIS)
    checked_at = models.DateTimeField(null=True, blank=True)
    full_check_at = models.DateTimeField(null=True, blank=True, help_text="Last manage.py verify_audit.")
    broken_row_id = models.BigIntegerField(null=True, blank=True)
    broken_seq = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True, help_text="The first break found; empty while the chain holds.")
    found_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "audit chain check"

    @classmethod
    def current(cls, pk: int = 1) -> "AuditChainCheck":
        return cls.objects.filter(pk=pk).first() or cls(pk=pk)

    @property
    def broken(self) -> bool:
        return bool(self.problem)
