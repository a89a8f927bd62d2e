"""A reason typed as a spreadsheet formula does not run when the CSV export is
opened: cells starting with = + - @ tab or CR get a leading quote. JSON keeps
the text as it is."""
import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://127.0.0.1/x","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


@pytest.fixture
def rows():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    for reason in HOSTILE + ["monthly release"]:
        FenceRestart.objects.create(node=node, cluster=cluster, node_address=node.address, started_at=timezone.now(),
                                    finished_at=timezone.now(), requested_by_username="alice", outcome="failed",
                                    output_excerpt="-rf: fence FATAL", reason=reason)


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(admin_client, rows):
    response = admin_client.get(reverse("admin:nodes_fencerestart_export_csv"))
    exported = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    reasons = {row["reason"] for row in exported}
    assert reasons == {"'" + reason for reason in HOSTILE} | {"monthly release"}
    assert {row["output_excerpt"] for row in exported} == {"'-rf: fence FATAL"}
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in exported for cell in row.values())


def test_json_keeps_the_text_as_typed(admin_client, rows):
    response = admin_client.get(reverse("admin:nodes_fencerestart_export_json"))
    exported = json.loads(b"".join(response.streaming_content))
    assert {row["reason"] for row in exported} == set(HOSTILE) | {"monthly release"}
