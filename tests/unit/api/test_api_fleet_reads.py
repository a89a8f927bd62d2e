"""Reading the fleet over the API: nodes with their drift state (filtered
by cluster and drift), and the fence restart audit filtered by cluster,
node, time, outcome and rollout; a filter that is not valid is a 400 that
says what was expected, never a server error."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from nodes.models import Cluster, FenceRestart, Node
from nodes.models.node import Drift

pytestmark = pytest.mark.django_db
ROLLOUT = uuid.uuid4()
START = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def api(client_as):
    return client_as("Viewer")


@pytest.fixture
def history():
    prod = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    staging = Cluster.objects.create(name="staging", core_address="10.0.1.11")
    deas = [Node.objects.create(cluster=prod, address=f"10.0.0.{i}", roles=["dea"], drift=drift)
            for i, drift in ((12, Drift.IN_SYNC), (13, Drift.NOT_RESTARTED))]
    spare = Node.objects.create(cluster=staging, address="10.0.1.12", roles=["dea"], drift=Drift.NOT_RESTARTED)
    FenceRestart.objects.bulk_create(
        FenceRestart(node=deas[i % 2], cluster=prod, node_address=deas[i % 2].address,
                     started_at=START + timedelta(minutes=i), requested_by_username="alice", image_before="img:1",
                     image_after="img:2", outcome="succeeded" if i % 5 else "failed",
                     correlation_id=ROLLOUT if i < 4 else uuid.uuid4(), reason="monthly release")
        for i in range(10))
    FenceRestart.objects.create(node=spare, cluster=staging, node_address=spare.address, started_at=START,
                                requested_by_username="carol", outcome="errored", reason="staging test")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_nodes_with_their_drift(api, history):
    nodes = results(api.get("/api/nodes/"))
    assert [(n["cluster"], n["address"], n["drift"]) for n in nodes] == [
        ("prod", "10.0.0.12", "in_sync"), ("prod", "10.0.0.13", "not_restarted"),
        ("staging", "10.0.1.12", "not_restarted")]
    assert nodes[1]["drift_display"] == "config changed, fence not restarted"
    assert [n["address"] for n in results(api.get("/api/nodes/", {"drift": "not_restarted", "cluster": "prod"}))] == [
        "10.0.0.13"]
    refused = api.get("/api/nodes/", {"drift": "sideways"})
    assert refused.status_code == 400 and refused.json()["detail"].startswith("drift: One of ")
    assert "not_restarted" in refused.json()["detail"]


def test_the_audit_filtered_by_cluster_node_time_outcome_and_rollout(api, history):
    assert len(results(api.get("/api/fence-restarts/"))) == 11
    prod = results(api.get("/api/fence-restarts/", {"cluster": "prod"}))
    assert len(prod) == 10 and prod[0]["started_at"] > prod[-1]["started_at"]  # newest first
    assert {r["node_address"] for r in results(api.get("/api/fence-restarts/", {"node": "10.0.0.13"}))} == {"10.0.0.13"}
    window = {"since": (START + timedelta(minutes=2)).isoformat(), "until": (START + timedelta(minutes=5)).isoformat()}
    assert [r["started_at"] for r in results(api.get("/api/fence-restarts/", window))] == [
        (START + timedelta(minutes=m)).isoformat().replace("+00:00", "Z") for m in (4, 3, 2)]
    assert len(results(api.get("/api/fence-restarts/", {"outcome": "failed"}))) == 2
    assert len(results(api.get("/api/fence-restarts/", {"correlation_id": str(ROLLOUT)}))) == 4
    row = results(api.get("/api/fence-restarts/", {"cluster": "staging"}))[0]
    assert (row["requested_by"], row["outcome"], row["reason"]) == ("carol", "errored", "staging test")


@pytest.mark.parametrize("query", [{"since": "yesterday"}, {"until": "2026-13-01T00:00:00Z"},
                                   {"since": "0001-01-01T00:00:00+05:00"}, {"node": "10.0.0"},
                                   {"outcome": "meh"}, {"correlation_id": "42"}])
def test_a_bad_audit_filter_is_400(api, history, query):
    response = api.get("/api/fence-restarts/", query)
    assert response.status_code == 400 and list(response.json()) == ["detail"]
    assert response.json()["detail"].startswith(f"{next(iter(query))}: ")  # names the filter


def test_the_audit_is_read_only(api, history, client_as):
    admin = client_as("Release manager")
    row = FenceRestart.objects.first()
    for client in (api, admin):
        # No operation writes it: the method does not exist for any role.
        refused = client.post("/api/fence-restarts/", {}, format="json")
        assert (refused.status_code, refused.json()) == (405, {"detail": 'Method "POST" not allowed.'})
        assert client.delete(f"/api/fence-restarts/{row.pk}/").status_code == 404
    assert FenceRestart.objects.count() == 11


def test_pages_of_the_audit(api, history):
    first = api.get("/api/fence-restarts/", {"limit": 4}).json()
    assert first["count"] == 11 and len(first["results"]) == 4
    rest = api.get("/api/fence-restarts/", {"limit": 4, "offset": 8}).json()
    assert len(rest["results"]) == 3 and rest["next"] is None
