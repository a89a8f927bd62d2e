"""Does the audit's hash chain hold? Two checks, one record (AuditChainCheck):

- full(): every chained row from #1, and no final row outside the chain
  (manage.py verify_audit). Reads the whole history once, in chunks.
- incremental(): what the audit page's badge runs on every view, in three
  queries whatever the size of the history: the record, the last verified
  row and at most BATCH rows after it, and one probe of the partial index of
  final rows outside the chain. It finds an edit, a deletion or a reordering
  among rows chained since the last check, the last verified row edited or
  deleted (a truncated chain) and a final row with no hash; an old row edited
  since it was verified is found by the full check (run it from cron).

Each chain (audit_chain.FENCE, audit_chain.ROLLOUT_EVENTS) is checked on its
own, with its own record; incremental_all() and full_all() check both.
"""
from django.apps import apps
from django.utils import timezone

from nodes import audit_chain
from nodes.audit_chain import FENCE, ROLLOUT_EVENTS, ChainSpec
from nodes.audit_hash import GENESIS, Break, Walk, row_hash
from nodes.models import AuditChainCheck

BATCH = 1000
CHAINS = [FENCE, ROLLOUT_EVENTS]
MODELS = {FENCE: ("nodes", "FenceRestart"), ROLLOUT_EVENTS: ("images", "RolloutEvent")}


def _model(spec: ChainSpec):
    return apps.get_model(*MODELS[spec])


def _current(spec: ChainSpec) -> AuditChainCheck:
    state = AuditChainCheck.current(spec.check_pk)
    state.chain = spec  # the badge and verify_audit name the chain
    return state


def _record_break(state: AuditChainCheck, found: Break) -> None:
    state.problem, state.broken_row_id, state.broken_seq = found.problem, found.row_id, found.chain_seq
    state.found_at = timezone.now()


def _verified_row_gone(state: AuditChainCheck, rows: list[dict], spec: ChainSpec) -> Break | None:
    """The last row found intact must still be there, unchanged."""
    if state.verified_seq == 0:
        return None
    first = rows[0] if rows else None
    if first is None or first["chain_seq"] != state.verified_seq:
        return Break(state.verified_seq, None, f"chain #{state.verified_seq}, verified "
                     f"{state.checked_at:%Y-%m-%d %H:%M:%S} UTC, is gone (rows deleted)")
    if first["row_hash"] != state.verified_hash or row_hash(first, spec.hashed) != state.verified_hash:
        return Break(state.verified_seq, first["id"], "changed since it was verified (row edited)")
    return None


def incremental(spec: ChainSpec = FENCE) -> AuditChainCheck:
    state = _current(spec)
    state.more_to_check = False
    if state.broken:
        return state  # a break stays until a full check finds the chain whole
    model = _model(spec)
    rows = list(model._base_manager.filter(chain_seq__gte=max(state.verified_seq, 1))
                .order_by("chain_seq").values(*spec.read)[:BATCH + 1])
    unchained = audit_chain.unchained_final(model, spec)
    found = _verified_row_gone(state, rows, spec)
    walk = None
    if found is None:
        walk = Walk(last_seq=state.verified_seq, last_hash=state.verified_hash, hashed=spec.hashed)
        for row in rows[1:] if state.verified_seq else rows:
            if walk.feed(row):
                break
        found = walk.first_break or unchained
    state.more_to_check = len(rows) > BATCH
    if found:
        _record_break(state, found)
    elif walk.last_seq != state.verified_seq:
        state.verified_seq, state.verified_hash, state.checked_at = walk.last_seq, walk.last_hash, timezone.now()
    else:
        return state  # nothing new: no write, so a page view costs the same reads every time
    state.save()
    return state


def incremental_all() -> list[AuditChainCheck]:
    return [incremental(spec) for spec in CHAINS]


def full(spec: ChainSpec = FENCE) -> tuple[AuditChainCheck, int]:
    """(the record after a check of the whole chain, how many rows were checked)."""
    state = _current(spec)
    model = _model(spec)
    walk = audit_chain.walk_database(model, spec=spec)
    found = walk.first_break
    if found is None and walk.last_seq < state.verified_seq:
        found = Break(walk.last_seq + 1, None, f"chain #{walk.last_seq + 1}..#{state.verified_seq}, verified "
                      f"before, are gone (rows deleted)")
    found = found or audit_chain.unchained_final(model, spec)
    now = timezone.now()
    state.full_check_at = state.checked_at = now
    if found:
        _record_break(state, found)
    else:
        state.verified_seq, state.verified_hash = walk.last_seq, walk.last_hash if walk.last_seq else GENESIS
        state.problem, state.broken_row_id, state.broken_seq, state.found_at = "", None, None, None
    state.save()
    return state, walk.checked


def full_all() -> list[tuple[AuditChainCheck, int]]:
    return [full(spec) for spec in CHAINS]
