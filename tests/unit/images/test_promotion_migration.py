"""images 0015 on a database that already has the race's result (two
unfinished promotions of one version to one cluster): the oldest stays, the
later one ends errored saying why, and then the constraint holds."""
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from images.models import Promotion, Status
from job_runs.models import RunStatus
from nodes.models import Cluster
from support.image_versions import draft_version

BEFORE = [("images", "0014_rolloutstep_fence_seen_at")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_ends_the_later_duplicate_and_the_constraint_holds():
    _migrate(BEFORE)
    staging = Cluster.objects.create(name="staging", core_address="10.0.0.11", registry="10.0.0.11:5000")
    production = Cluster.objects.create(name="production", core_address="10.1.0.11", registry="10.1.0.11:5000")
    version = draft_version(staging, status=Status.PUSHED, manifest_digest="sha256:" + "a" * 64)
    fields = {"source": version, "target_cluster": production, "digest": version.manifest_digest,
              "source_reference": "a", "target_reference": "b", "requested_by_username": "ci"}
    first, second = (Promotion.objects.create(**fields) for _ in range(2))
    Promotion.objects.filter(pk=second.pk).update(created_at=first.created_at + timedelta(seconds=1))

    _migrate(None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (RunStatus.QUEUED, RunStatus.ERRORED)
    assert "already queued or running" in second.status_reason and second.finished_at is not None
    with pytest.raises(IntegrityError):
        Promotion.objects.create(**fields)
