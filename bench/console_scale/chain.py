"""Chain the fence restarts the bench inserted with SQL, as the console
chains the rows it writes (nodes/audit_chain.py), so the audit page's badge
is measured on a history whose chain holds, as in production.

SQLite has no SHA-256 in SQL, so the hashes are computed here, in id order
(the bench's rows finish in id order), and written in batches with the
append-only triggers dropped for the bulk update and made again after.
Then the whole chain is verified (manage.py verify_audit, as cron would run
it), so the page's incremental check starts where production's would: with
nothing new to check, its steady state, the same at every size."""
import time

from django.db import connection, transaction

from nodes import audit_chain, audit_triggers, audit_verify
from nodes.audit_hash import HASHED, row_hash
from nodes.models import FenceRestart

BATCH = 20_000
UPDATE = f"UPDATE {audit_triggers.TABLE} SET chain_seq = %s, prev_hash = %s, row_hash = %s WHERE id = %s"  # noqa: S608  own constant


def chain_unchained(progress=print) -> int:
    seq, previous = audit_chain.head(FenceRestart)
    unchained = FenceRestart._base_manager.filter(chain_seq__isnull=True, finished_at__isnull=False).order_by("id")
    last_id, chained = 0, 0
    with connection.cursor() as cursor:
        for statement in audit_triggers.DROP[connection.vendor]:
            cursor.execute(statement)
        try:
            while batch := list(unchained.filter(id__gt=last_id).values(*HASHED)[:BATCH]):
                updates = []
                for values in batch:
                    seq += 1
                    values.update(chain_seq=seq, prev_hash=previous)
                    previous = row_hash(values)
                    updates.append((seq, values["prev_hash"], previous, values["id"]))
                with transaction.atomic():  # one commit per batch, not one per row
                    cursor.executemany(UPDATE, updates)
                last_id, chained = batch[-1]["id"], chained + len(batch)
                if chained % 200_000 == 0:
                    progress(f"  rows chained: {chained:,}")
        finally:
            for statement in audit_triggers.CREATE[connection.vendor]:
                cursor.execute(statement)
    began = time.perf_counter()
    state, checked = audit_verify.full()
    progress(f"  verify_audit: {checked:,} rows in {time.perf_counter() - began:.1f} s, "
             f"{'BROKEN: ' + state.problem if state.broken else 'chain holds'}")
    return chained
