"""Rollout events (approvals, windows, pauses, gates, cancels) are hash-chained
when written, in a chain of their own: with the triggers dropped, an edit, a
deletion, a reordering or a row slipped in with raw SQL is found by
verify_audit and by the audit page's badge, which name the chain and the row."""
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from images import rollout_event_triggers
from images.models import RolloutEvent
from images.models.rollout import Rollout
from images.models.rollout_event import EventKind
from nodes import audit_chain, audit_hash, audit_verify
from nodes.models import AuditChainCheck, Cluster, FenceRestart, Node
from support.writers_at_once import run_at_once

pytestmark = pytest.mark.django_db

KINDS = [EventKind.APPROVAL_REQUESTED, EventKind.APPROVED, EventKind.WINDOW_OVERRIDE, EventKind.PAUSED,
         EventKind.RESUMED]


@pytest.fixture
def rollout():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    return Rollout.objects.create(cluster=cluster, target=None, target_image="exampleco/app:2",
                                  target_pull="exampleco/app:2", requested_by_username="alice", reason="patch")


def _events(rollout, admin_user) -> list[RolloutEvent]:
    return [RolloutEvent.record(rollout, kind, user=admin_user, reason=f"step {n}") for n, kind in enumerate(KINDS)]


def _sql(statement, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _without_triggers():
    """What someone with the table owner's SQL access can do (rolled back with the test)."""
    drop = {"sqlite": rollout_event_triggers.SQLITE_DROP, "postgresql": rollout_event_triggers.POSTGRESQL_DROP}
    with connection.cursor() as cursor:
        for statement in drop[connection.vendor]:
            cursor.execute(statement)


def _verify(capsys, *, broken: bool) -> str:
    """verify_audit's output; it exits with status 1 when a chain is broken."""
    if broken:
        with pytest.raises(SystemExit) as stop:
            call_command("verify_audit")
        assert stop.value.code == 1
    else:
        call_command("verify_audit")
    return capsys.readouterr().out


def test_each_event_is_chained_when_written_in_its_own_chain(rollout, admin_user, capsys):
    events = _events(rollout, admin_user)
    assert [e.chain_seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == audit_hash.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.row_hash for e in events[:-1]]
    stored = RolloutEvent.objects.filter(pk=events[2].pk).values(*audit_hash.ROLLOUT_EVENT_HASHED, "row_hash").get()
    assert stored["row_hash"] == audit_hash.row_hash(stored, audit_hash.ROLLOUT_EVENT_HASHED) == events[2].row_hash
    out = _verify(capsys, broken=False)
    assert f"rollout events: chain holds: 5 rows, last chain #5, hash {events[-1].row_hash}" in out
    assert "fence restarts: chain holds: 0 rows" in out  # the fence restart chain is its own, still empty
    assert FenceRestart.objects.count() == 0


def test_the_triggers_let_the_chain_fields_be_written_once(rollout, admin_user):
    event = _events(rollout, admin_user)[0]
    for sql in ("UPDATE images_rolloutevent SET row_hash = 'x'", "UPDATE images_rolloutevent SET chain_seq = 9",
                "UPDATE images_rolloutevent SET chain_seq = NULL, prev_hash = NULL, row_hash = NULL"):
        with pytest.raises(IntegrityError, match="append-only"):
            _sql(sql)
    assert RolloutEvent.objects.get(pk=event.pk).chain_seq == 1


def _swap_places(one, other):
    """Swap two rows' places and give each a hash matching its new content."""
    for row, seq in ((one, 100), (other, one.chain_seq), (one, other.chain_seq)):
        _sql("UPDATE images_rolloutevent SET chain_seq = %s WHERE id = %s", seq, row.pk)
    for row in (one, other):
        values = RolloutEvent.objects.filter(pk=row.pk).values(*audit_hash.ROLLOUT_EVENT_HASHED).get()
        _sql("UPDATE images_rolloutevent SET row_hash = %s WHERE id = %s",
             audit_hash.row_hash(values, audit_hash.ROLLOUT_EVENT_HASHED), row.pk)


@pytest.mark.parametrize("tamper, named_row, named_seq, problem", [
    # An approval's approver changed.
    (lambda rows: _sql("UPDATE images_rolloutevent SET username = 'mallory' WHERE id = %s", rows[1].pk),
     1, 2, "edited"),
    # The override (chain #3) deleted: the next row is named, with the gap.
    (lambda rows: _sql("DELETE FROM images_rolloutevent WHERE id = %s", rows[2].pk), 3, 4, "chain #3..#3 missing"),
    # Reordered, hashes made to match the moved rows: their links name the old neighbours.
    (lambda rows: _swap_places(rows[1], rows[2]), 2, 2, "rows reordered"),
])
def test_verify_names_the_chain_and_the_first_row_that_breaks_it(rollout, admin_user, capsys, tamper, named_row,
                                                                 named_seq, problem):
    rows = _events(rollout, admin_user)
    _without_triggers()
    tamper(rows)
    out = _verify(capsys, broken=True)
    line = next(line for line in out.splitlines() if line.startswith("rollout events: "))
    assert f"BROKEN at row {rows[named_row].pk} (chain #{named_seq}): " in line and problem in line
    assert "fence restarts: chain holds" in out
    state = AuditChainCheck.current(audit_chain.ROLLOUT_EVENTS.check_pk)
    assert (state.broken, state.broken_row_id, state.broken_seq) == (True, rows[named_row].pk, named_seq)
    assert AuditChainCheck.current(audit_chain.FENCE.check_pk).broken is False


def test_an_event_slipped_in_with_sql_is_found(rollout, admin_user, capsys):
    rows = _events(rollout, admin_user)
    _sql("INSERT INTO images_rolloutevent (rollout_id, kind, username, at, reason) "
         "SELECT rollout_id, 'approved', 'mallory', at, 'backdated' FROM images_rolloutevent WHERE id = %s", rows[0].pk)
    slipped = RolloutEvent.objects.get(username="mallory")
    out = _verify(capsys, broken=True)
    assert f"BROKEN at row {slipped.pk} (chain #None): " in out and "not in the chain" in out


def test_the_audit_page_badge_names_a_broken_rollout_event(rollout, admin_user, admin_client):
    url = reverse("admin:nodes_fencerestart_changelist")
    rows = _events(rollout, admin_user)
    page = admin_client.get(url).content.decode()
    assert "Rollout events:</strong>\n\n  &#10004; Audit hash chain holds: chain #1 to #5 verified" in page
    _without_triggers()
    _sql("UPDATE images_rolloutevent SET reason = 'approved by the board' WHERE id = %s", rows[4].pk)
    page = admin_client.get(url).content.decode()
    link = reverse("admin:images_rolloutevent_change", args=[rows[4].pk])
    assert f"BROKEN</strong> at\n  row <a href=\"{link}\">{rows[4].pk}</a> (chain #5)" in page
    assert "changed since it was verified (row edited)" in page
    assert rows[4].row_hash in admin_client.get(link).content.decode()  # the event's page shows its chain fields
    assert "Fence restarts:</strong>\n\n  Audit hash chain: no row with a final outcome yet." in page
    assert audit_verify.incremental(audit_chain.FENCE).broken is False


def test_the_migration_chains_existing_events_in_the_order_written(rollout, admin_user):
    rows = _events(rollout, admin_user)
    _without_triggers()
    _sql("UPDATE images_rolloutevent SET chain_seq = NULL, prev_hash = NULL, row_hash = NULL")
    migration = import_module("images.migrations.0013_rolloutevent_hash_chain")
    # The data step alone, on today's model (the schema steps ran when the test database was made).
    migration.chain_existing_rows(django_apps, SimpleNamespace(connection=connection))
    assert list(RolloutEvent.objects.order_by("id").values_list("chain_seq", flat=True)) == [1, 2, 3, 4, 5]
    state, checked = audit_verify.full(audit_chain.ROLLOUT_EVENTS)
    assert (state.broken, checked) == (False, len(rows))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_take_the_same_predecessor(rollout):
    """Four threads (four database connections, as four workers) record events at once."""
    def writer(n):
        for i in range(8):
            RolloutEvent.record(rollout, EventKind.PAUSED if i % 2 else EventKind.RESUMED, reason=f"{n}.{i}")

    assert run_at_once(writer) == []
    assert sorted(RolloutEvent.objects.values_list("chain_seq", flat=True)) == list(range(1, 33))
    state, checked = audit_verify.full(audit_chain.ROLLOUT_EVENTS)
    assert (state.broken, checked) == (False, 32)
