"""The tamper-evident audit: rows are hash-chained as their outcome becomes
final, the triggers guard the chain fields, and verify_audit (the whole chain)
and the audit page's badge (incremental) find an edit, a deletion, a
reordering and a row slipped in with raw SQL after the triggers are dropped."""
import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from nodes import audit_chain, audit_hash, audit_triggers, audit_verify
from nodes.models import AuditChainCheck, Cluster, FenceRestart, Node
from support.writers_at_once import run_at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    return cluster, Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])


def _row(fleet, n, **fields):
    cluster, node = fleet
    at = timezone.now() - timedelta(minutes=100 - n)
    values = {"node": node, "cluster": cluster, "node_address": node.address, "started_at": at,
              "finished_at": at + timedelta(seconds=5), "requested_by_username": "alice", "image_before": f"a:{n}",
              "image_after": f"a:{n + 1}", "outcome": "succeeded", "reason": f"=release {n}", "exit_code": 0}
    return FenceRestart.objects.create(**{**values, **fields})


def _history(fleet, count=5):
    return [_row(fleet, n) for n in range(count)]


def _sql(statement, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _without_triggers():
    """What someone with the table owner's SQL access can do (rolled back with the test)."""
    with connection.cursor() as cursor:
        for statement in audit_triggers.DROP[connection.vendor]:
            cursor.execute(statement)


def _verify(capsys):
    try:
        call_command("verify_audit")
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().out


def test_rows_are_chained_in_the_order_they_become_final(fleet):
    written_ahead = _row(fleet, 0, finished_at=None, outcome="")
    complete = _row(fleet, 1)
    assert written_ahead.chain_seq is None and written_ahead.row_hash is None  # open: not final yet
    assert (complete.chain_seq, complete.prev_hash) == (1, audit_hash.GENESIS)
    written_ahead.complete(outcome="failed", finished_at=timezone.now(), exit_code=1, output_excerpt="FATAL")
    stored = FenceRestart.objects.get(pk=written_ahead.pk)
    assert (stored.chain_seq, stored.prev_hash) == (2, complete.row_hash)
    # The hash is over the documented canonical form of the stored row.
    values = FenceRestart.objects.filter(pk=stored.pk).values(*audit_hash.HASHED).get()
    assert stored.row_hash == audit_hash.row_hash(values)
    assert json.loads(audit_hash.canonical(values))["outcome"] == "failed"


def test_bulk_created_final_rows_are_chained_too(fleet):
    cluster, node = fleet
    now = timezone.now()
    rows = FenceRestart.objects.bulk_create([
        FenceRestart(node=node, cluster=cluster, node_address=node.address, started_at=now, finished_at=now,
                     requested_by_username="bob", outcome="succeeded", reason=f"r{n}") for n in range(3)])
    assert [row.chain_seq for row in rows] == [1, 2, 3]
    assert audit_verify.full()[0].broken is False


def test_the_chain_fields_cannot_change_once_set(fleet):
    row = _history(fleet, 2)[1]
    for statement in ("UPDATE nodes_fencerestart SET row_hash = 'x' WHERE id = %s",
                      "UPDATE nodes_fencerestart SET prev_hash = NULL, row_hash = NULL, chain_seq = NULL WHERE id = %s",
                      "UPDATE nodes_fencerestart SET chain_seq = 7 WHERE id = %s"):
        with pytest.raises(IntegrityError, match="append-only"):
            _sql(statement, row.pk)
    # Nor can an open row arrive at completion with a chain of its own making.
    open_row = _row(fleet, 9, finished_at=None, outcome="")
    with pytest.raises(IntegrityError, match="append-only"):
        _sql("UPDATE nodes_fencerestart SET outcome = 'succeeded', finished_at = %s, chain_seq = 99, prev_hash = 'x', "
             "row_hash = 'y' WHERE id = %s", timezone.now(), open_row.pk)


def test_two_rows_cannot_take_the_same_place_in_the_chain(fleet):
    first = _history(fleet, 1)[0]
    _without_triggers()
    with pytest.raises(IntegrityError):
        _sql("INSERT INTO nodes_fencerestart (node_id, cluster_id, cluster_name, node_address, started_at, finished_at, "
             "requested_by_username, image_before, image_after, outcome, output_excerpt, correlation_id, reason, "
             "chain_seq, prev_hash, row_hash) SELECT node_id, cluster_id, cluster_name, node_address, started_at, "
             "finished_at, requested_by_username, image_before, image_after, outcome, output_excerpt, "
             "correlation_id, reason, chain_seq, prev_hash, row_hash FROM nodes_fencerestart WHERE id = %s", first.pk)


def test_verify_holds_on_an_untouched_history(fleet, capsys):
    rows = _history(fleet)
    code, out = _verify(capsys)
    assert code == 0 and f"chain holds: 5 rows, last chain #5, hash {rows[-1].row_hash}" in out
    assert AuditChainCheck.current().verified_seq == 5


@pytest.mark.parametrize("tamper, named_row, named_seq, problem", [
    (lambda rows: _sql("UPDATE nodes_fencerestart SET reason = 'nothing to see' WHERE id = %s", rows[2].pk), 2, 3, "edited"),
    (lambda rows: _sql("UPDATE nodes_fencerestart SET image_after = 'evil:1' WHERE id = %s", rows[3].pk), 3, 4, "edited"),
    # The row at chain #2 deleted: the next one is named, with the gap.
    (lambda rows: _sql("DELETE FROM nodes_fencerestart WHERE id = %s", rows[1].pk), 2, 3, "chain #2..#2 missing"),
    # Reordered: the rows at #2 and #4 swap places (through a free number).
    (lambda rows: [_sql("UPDATE nodes_fencerestart SET chain_seq = %s WHERE id = %s", seq, pk) for seq, pk in
                   ((100, rows[1].pk), (2, rows[3].pk), (4, rows[1].pk))], 3, 2, "edited"),
    # Reordered with hashes made to match the moved rows' content: their links name the old neighbours.
    (lambda rows: _swap_places(rows[1], rows[2]), 2, 2, "rows reordered"),
])
def test_verify_names_the_first_row_that_breaks_the_chain(fleet, capsys, tamper, named_row, named_seq, problem):
    rows = _history(fleet)
    _without_triggers()
    tamper(rows)
    code, out = _verify(capsys)
    assert code == 1
    assert f"BROKEN at row {rows[named_row].pk} (chain #{named_seq}): " in out and problem in out
    state = AuditChainCheck.current()
    assert (state.broken, state.broken_row_id, state.broken_seq) == (True, rows[named_row].pk, named_seq)


def _swap_places(one, other):
    """Swap two rows' places and give each a hash that matches its new content (the
    forger's best effort without rewriting every later row)."""
    for row, seq in ((one, 100), (other, one.chain_seq), (one, other.chain_seq)):
        _sql("UPDATE nodes_fencerestart SET chain_seq = %s WHERE id = %s", seq, row.pk)
    for row in (one, other):
        values = FenceRestart.objects.filter(pk=row.pk).values(*audit_hash.HASHED).get()
        _sql("UPDATE nodes_fencerestart SET row_hash = %s WHERE id = %s", audit_hash.row_hash(values), row.pk)


def test_verify_finds_the_last_rows_deleted_and_a_row_slipped_in(fleet, capsys):
    rows = _history(fleet)
    assert _verify(capsys)[0] == 0  # the chain's head is now known: chain #5
    _without_triggers()
    _sql("DELETE FROM nodes_fencerestart WHERE id IN (%s, %s)", rows[3].pk, rows[4].pk)
    code, out = _verify(capsys)
    assert code == 1 and "chain #4..#5, verified before, are gone" in out
    AuditChainCheck.objects.all().delete()
    _sql("INSERT INTO nodes_fencerestart (node_id, cluster_id, cluster_name, node_address, started_at, finished_at, "
         "requested_by_username, image_before, image_after, outcome, output_excerpt, correlation_id, reason) "
         "VALUES (%s, %s, 'prod', '10.0.0.12', %s, %s, 'mallory', 'a:1', 'a:2', 'succeeded', '', "
         "'0000000000000000000000000000000a', 'backdated')", rows[0].node_id, rows[0].cluster_id,
         rows[0].started_at, rows[0].finished_at)
    code, out = _verify(capsys)
    assert code == 1 and "final outcome but not in the chain" in out


def test_the_audit_page_badge_checks_new_rows_in_constant_queries(fleet, admin_client):
    url = reverse("admin:nodes_fencerestart_changelist")
    rows = _history(fleet, 3)
    page = admin_client.get(url).content.decode()
    assert "Audit hash chain holds: chain #1 to #3 verified" in page
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    rows += _history(fleet, 40)
    admin_client.get(url)  # the new rows are verified once
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(url).content.decode()
    assert "chain #1 to #43 verified" in page and len(many) == len(few)
    _without_triggers()
    _sql("UPDATE nodes_fencerestart SET requested_by_username = 'nobody' WHERE id = %s", rows[42].pk)  # the last verified
    page = admin_client.get(url).content.decode()
    assert f"BROKEN</strong> at\n  row <a href=\"{reverse('admin:nodes_fencerestart_change', args=[rows[42].pk])}" \
           in page and "changed since it was verified" in page
    # A break stays shown until a whole-chain check finds the chain whole.
    assert "BROKEN" in admin_client.get(url).content.decode()


def test_the_badge_finds_an_edit_among_rows_not_verified_yet(fleet, admin_client):
    url = reverse("admin:nodes_fencerestart_changelist")
    rows = _history(fleet, 3)
    admin_client.get(url)
    rows += _history(fleet, 3)
    _without_triggers()
    _sql("UPDATE nodes_fencerestart SET outcome = 'succeeded', exit_code = 0, reason = 'other' WHERE id = %s", rows[4].pk)
    page = admin_client.get(url).content.decode()
    assert f"(chain #{rows[4].chain_seq}):\n  content does not match its hash (row edited)" in page


def _export(admin_client, kind):
    response = admin_client.get(reverse(f"admin:nodes_fencerestart_export_{kind}"))
    return b"".join(response.streaming_content).decode()


def test_an_export_verifies_offline_and_an_edit_of_the_file_is_found(fleet, admin_client, tmp_path):
    _history(fleet, 4)
    _row(fleet, 7, finished_at=None, outcome="")  # open: exported, not chained yet
    _row(fleet, 8, reason="'quoted' by the operator", output_excerpt="-9 killed")
    for kind in ("csv", "json"):
        path = tmp_path / f"audit.{kind}"
        path.write_text(_export(admin_client, kind))
        walk, open_rows = audit_hash.check_file(str(path))
        assert (walk.first_break, walk.checked, open_rows, walk.last_seq) == (None, 5, 1, 5)
    text = (tmp_path / "audit.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {"chain_seq", "prev_hash", "row_hash", "cluster_id"} <= set(rows[0])
    edited = tmp_path / "edited.csv"
    edited.write_text(text.replace("'=release 2", "'=release 20"))
    walk, _ = audit_hash.check_file(str(edited))
    assert walk.first_break.chain_seq == 3 and "edited" in walk.first_break.problem
    # A line taken out: a gap in a full export, expected in a filtered one.
    lines = text.splitlines(keepends=True)
    dropped = tmp_path / "dropped.csv"
    dropped.write_text("".join(line for line in lines if not line.startswith(f"{rows[2]['id']},")))
    assert "missing" in audit_hash.check_file(str(dropped))[0].first_break.problem
    assert audit_hash.check_file(str(dropped), partial=True)[0].first_break is None
    assert audit_hash.main([str(edited)]) == 1 and audit_hash.main([str(tmp_path / "audit.json")]) == 0


def test_verify_audit_checks_a_file_and_says_what_it_cannot_read(fleet, admin_client, tmp_path, capsys):
    _history(fleet, 2)
    path = tmp_path / "audit.json"
    path.write_text(_export(admin_client, "json"))
    call_command("verify_audit", "--file", str(path))
    assert "2 chained rows checked, 0 not chained yet" in capsys.readouterr().out
    with pytest.raises(Exception, match="cannot read"):
        call_command("verify_audit", "--file", str(tmp_path / "absent.csv"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_take_the_same_predecessor(fleet):
    """Four threads (four database connections, as four workers) complete rows at once."""
    def writer(n):
        for i in range(8):
            row = _row(fleet, n * 10 + i, finished_at=None, outcome="")
            row.complete(outcome="succeeded", finished_at=timezone.now())

    assert run_at_once(writer) == []
    assert sorted(FenceRestart.objects.values_list("chain_seq", flat=True)) == list(range(1, 33))
    state, checked = audit_verify.full()
    assert (state.broken, checked) == (False, 32)


def test_two_transactions_locking_both_chains_in_opposite_orders_do_not_deadlock(fleet):
    """A transaction may chain a fence restart and a rollout event, in either
    order. PostgreSQL's advisory locks (SQLite has one write lock) taken one
    chain first here and the other first there would deadlock, and PostgreSQL
    aborts one of the two ("deadlock detected"): a failed rollout step."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite takes its one write lock at BEGIN")
    from threading import Barrier, BrokenBarrierError

    both_hold_one = Barrier(2, timeout=5)
    orders = [(audit_chain.FENCE, audit_chain.ROLLOUT_EVENTS), (audit_chain.ROLLOUT_EVENTS, audit_chain.FENCE)]

    def writer(n):
        first, second = orders[n]
        with transaction.atomic():
            audit_chain.lock(spec=first)
            try:
                # Fixed order: the second thread waits for the first's lock,
                # and the barrier times out; each then takes its second lock.
                both_hold_one.wait()
            except BrokenBarrierError:
                pass
            audit_chain.lock(spec=second)

    assert run_at_once(writer, count=2) == []
