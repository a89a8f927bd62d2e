"""The fence restart history refuses rewrites below the ORM too: raw SQL
UPDATE and DELETE are refused by triggers (SQLite and PostgreSQL: run this
file with both DATABASE_URLs), except completing an open row once."""
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from nodes.models import Cluster, FenceRestart, Node
from nodes.models.fence_restart import AppendOnlyError

TABLE = FenceRestart._meta.db_table


def _row(cluster, node, **fields):
    values = {"node": node, "cluster": cluster, "node_address": node.address, "started_at": timezone.now(),
              "finished_at": timezone.now(), "requested_by_username": "alice", "image_before": "a:1",
              "image_after": "a:2", "outcome": "succeeded", "reason": "CVE fix"}
    return FenceRestart.objects.create(**{**values, **fields})


@pytest.fixture
def fleet():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    return cluster, Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])


def _sql(statement, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@pytest.mark.django_db
def test_raw_sql_update_and_delete_are_refused(fleet):
    row = _row(*fleet)
    for statement in (f"UPDATE {TABLE} SET reason = 'rewritten' WHERE id = %s",
                      f"UPDATE {TABLE} SET outcome = 'failed' WHERE id = %s",
                      f"UPDATE {TABLE} SET cluster_name = 'other' WHERE id = %s",
                      f"DELETE FROM {TABLE} WHERE id = %s"):
        with pytest.raises(IntegrityError, match="append-only"):
            _sql(statement, row.pk)
    stored = FenceRestart.objects.get(pk=row.pk)
    assert (stored.reason, stored.outcome, stored.cluster_name) == ("CVE fix", "succeeded", "prod")


@pytest.mark.django_db
def test_an_open_row_gets_its_outcome_once_and_nothing_else(fleet):
    row = _row(*fleet, finished_at=None, outcome="")
    assert row.is_open
    # Completing it may not slip in another change.
    with pytest.raises(IntegrityError, match="append-only"):
        _sql(f"UPDATE {TABLE} SET outcome = 'succeeded', finished_at = %s, reason = 'other' WHERE id = %s",
             timezone.now(), row.pk)
    row.complete(outcome="failed", finished_at=timezone.now(), exit_code=1, output_excerpt="fence FATAL")
    stored = FenceRestart.objects.get(pk=row.pk)
    assert (stored.outcome, stored.exit_code, stored.output_excerpt, stored.is_open) == ("failed", 1, "fence FATAL", False)
    with pytest.raises(AppendOnlyError):
        stored.complete(outcome="succeeded", finished_at=timezone.now())
    with pytest.raises(IntegrityError, match="append-only"):
        _sql(f"UPDATE {TABLE} SET outcome = 'succeeded' WHERE id = %s", row.pk)
    assert FenceRestart.objects.get(pk=row.pk).outcome == "failed"


@pytest.mark.django_db
def test_base_manager_and_bulk_upsert_are_refused(fleet):
    row = _row(*fleet)
    with pytest.raises(AppendOnlyError):
        FenceRestart._base_manager.filter(pk=row.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        FenceRestart._base_manager.filter(pk=row.pk).delete()
    copy = FenceRestart(pk=row.pk, node=row.node, cluster=row.cluster, node_address=row.node_address,
                        started_at=row.started_at, requested_by_username="mallory", outcome="succeeded", reason="x")
    with pytest.raises(AppendOnlyError):
        FenceRestart.objects.bulk_create([copy], update_conflicts=True, unique_fields=["id"],
                                         update_fields=["requested_by_username", "reason"])
    assert FenceRestart.objects.get(pk=row.pk).requested_by_username == "alice"


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_history(fleet, django_user_model):
    alice = django_user_model.objects.create_user("alice")
    row = _row(*fleet, requested_by=alice)
    alice.delete()
    stored = FenceRestart.objects.get(pk=row.pk)
    assert (stored.requested_by_id, stored.requested_by_username) == (None, "alice")


@pytest.mark.django_db
def test_renaming_a_cluster_does_not_rewrite_the_exported_history(admin_client, fleet):
    cluster, node = fleet
    _row(cluster, node)
    cluster.name = "renamed"
    cluster.save()
    body = b"".join(admin_client.get(reverse("admin:nodes_fencerestart_export_csv")).streaming_content).decode()
    assert "prod" in body and "renamed" not in body
    page = admin_client.get(reverse("admin:nodes_fencerestart_changelist")).content.decode()
    assert '<td class="field-cluster_name">prod</td>' in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_the_name_into_old_rows():
    executor = MigrationExecutor(connection)
    executor.migrate([("nodes", "0003_roles")])
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO nodes_cluster (name, core_address, api_endpoint, registry, kato_behaviour, "
                       "config_component, config_key, ssh_user, ssh_port, last_import_error) "
                       "VALUES ('old', '10.0.2.11', '', '', '3.0', 'fence', 'docker/image', 'root', 22, '')")
        cursor.execute("SELECT id FROM nodes_cluster WHERE name = 'old'")
        cluster_id = cursor.fetchone()[0]
        cursor.execute("INSERT INTO nodes_node (cluster_id, address, ssh_port, ssh_user, roles, enabled, in_maintenance, "
                       "host_key_type, host_key, host_key_fingerprint, host_key_trusted_by, host_key_mismatch_fingerprint, "
                       "desired_image, fence_state, fence_image, docker_version, images, last_error, drift) "
                       "VALUES (%s, '10.0.2.12', 22, 'root', '[]', %s, %s, '', '', '', '', '', '', '', '', '', '[]', '', 'unknown')",
                       [cluster_id, True, False])
        cursor.execute("SELECT id FROM nodes_node WHERE address = '10.0.2.12'")
        node_id = cursor.fetchone()[0]
        cursor.execute("INSERT INTO nodes_fencerestart (node_id, cluster_id, node_address, started_at, "
                       "requested_by_username, image_before, image_after, outcome, output_excerpt, correlation_id, reason) "
                       "VALUES (%s, %s, '10.0.2.12', %s, 'bob', '', 'a:2', 'succeeded', '', %s, 'old row')",
                       [node_id, cluster_id, timezone.now(), "0" * 32])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert FenceRestart.objects.get(reason="old row").cluster_name == "old"
    with pytest.raises(IntegrityError, match="append-only"):
        _sql(f"DELETE FROM {TABLE} WHERE reason = 'old row'")
