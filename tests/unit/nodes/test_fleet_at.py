"""The fleet at a moment, from audit rows written as a rollout, a failure and
a rollback would write them: the image each node ran at T and since when,
'unknown' after a failed or unverified restart, 'restarting' while one is in
progress, and the timeline drawn as SVG on the server."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.urls import reverse

from nodes import fleet_at
from nodes.admin.fleet_view import parse_moment
from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=dt_timezone.utc)


def at(minutes, seconds=0):
    return T0 + timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture
def history():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    a, b = (Node.objects.create(cluster=cluster, address=f"10.0.0.{n}", roles=["dea"]) for n in (12, 13))
    Node.objects.create(cluster=cluster, address="10.0.0.14", roles=["dea"])  # never restarted

    def restart(node, start, end, before, after, outcome):
        return FenceRestart.objects.create(node=node, cluster=cluster, node_address=node.address,
                                           started_at=start, finished_at=end, requested_by_username="alice",
                                           image_before=before, image_after=after, outcome=outcome, reason="r")
    rows = {
        "a1": restart(a, at(0), at(0, 20), "img:1", "img:2", "succeeded"),
        "b1": restart(b, at(1), at(1, 20), "img:1", "img:2", "succeeded"),
        "a2": restart(a, at(10), at(10, 30), "img:2", "img:3", "failed"),
        "a2-none": restart(a, at(11), at(11, 5), "img:2", "img:3", "not_restarted"),
        "a3": restart(a, at(12), at(12, 20), "img:3", "img:2", "succeeded"),  # the rollback
        "b2": restart(b, at(20), None, "img:2", "img:3", ""),  # written ahead, never completed
    }
    return cluster, {"a": a, "b": b}, rows


def answer(cluster, moment):
    return {node.address: (state.kind, state.image, state.since, state.row.pk if state.row else None)
            for node, state in fleet_at.states_at(cluster, moment)}


def test_each_moment_is_answered_from_the_audit(history):
    cluster, _, rows = history
    assert answer(cluster, at(-1))["10.0.0.12"] == ("not recorded", "img:1", None, rows["a1"].pk)
    assert answer(cluster, at(0, 10))["10.0.0.12"] == ("restarting", "", at(0), rows["a1"].pk)
    between = answer(cluster, at(5))
    assert between["10.0.0.12"] == ("image", "img:2", at(0, 20), rows["a1"].pk)
    assert between["10.0.0.13"] == ("image", "img:2", at(1, 20), rows["b1"].pk)
    assert between["10.0.0.14"] == ("not recorded", "", None, None)
    # A failed restart: unknown from its start; "not restarted" changes nothing.
    assert answer(cluster, at(11, 30))["10.0.0.12"] == ("unknown", "", at(10), rows["a2"].pk)
    assert answer(cluster, at(15))["10.0.0.12"] == ("image", "img:2", at(12, 20), rows["a3"].pk)
    # A restart whose outcome is unknown to this day (its row is open): unknown from its start.
    assert answer(cluster, at(30))["10.0.0.13"] == ("unknown", "", at(20), rows["b2"].pk)


def test_timelines_cover_the_window_with_each_change(history):
    cluster, nodes, rows = history
    members = fleet_at.nodes_of(cluster)
    segments = fleet_at.timelines(cluster, at(5), at(-5), at(30), members)
    kinds = [(s.state.kind, s.state.image, s.start, s.end) for s in segments[nodes["a"].pk]]
    assert kinds == [("not recorded", "img:1", at(-5), at(0)), ("restarting", "", at(0), at(0, 20)),
                     ("image", "img:2", at(0, 20), at(10)), ("restarting", "", at(10), at(10, 30)),
                     ("unknown", "", at(10, 30), at(12)), ("restarting", "", at(12), at(12, 20)),
                     ("image", "img:2", at(12, 20), at(30))]


def test_the_page_shows_the_table_and_an_svg_timeline(history, admin_client):
    cluster, _, rows = history
    url = reverse("admin:nodes_fencerestart_fleet_at", args=[cluster.pk])
    page = admin_client.get(url, {"at": at(11, 30).isoformat()}).content.decode()
    assert 'data-address="10.0.0.12" data-kind="unknown"' in page
    assert 'data-address="10.0.0.13" data-kind="image" data-image="img:2"' in page
    assert f'href="{reverse("admin:nodes_fencerestart_change", args=[rows["a2"].pk])}"' in page
    assert '<svg id="fleet-timeline"' in page and 'class="segment segment-unknown"' in page
    assert page.count('class="fleet-lane"') == 3 and "<script" not in page.split('<svg id="fleet-timeline"')[1]
    # Reachable from the cluster's page and the audit page.
    assert url in admin_client.get(reverse("admin:nodes_cluster_change", args=[cluster.pk])).content.decode()
    assert reverse("admin:nodes_fencerestart_fleet_pick") in admin_client.get(
        reverse("admin:nodes_fencerestart_changelist")).content.decode()
    assert url in admin_client.get(reverse("admin:nodes_fencerestart_fleet_pick")).content.decode()


def test_a_bad_moment_is_refused_with_the_reason(history, admin_client):
    cluster, _, _ = history
    response = admin_client.get(reverse("admin:nodes_fencerestart_fleet_at", args=[cluster.pk]),
                                {"at": "2026-13-45 99:00"})
    assert response.status_code == 400 and "is not a date and time" in response.content.decode()
    assert parse_moment("yesterday")[0] is None and parse_moment("2026-11-02T10:00")[0] == T0


def test_the_page_needs_the_audit_view_permission(history, client, django_user_model):
    cluster, _, _ = history
    user = django_user_model.objects.create_user("eve", password="pw", is_staff=True)
    client.force_login(user)
    response = client.get(reverse("admin:nodes_fencerestart_fleet_at", args=[cluster.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize("moment", ["0001-01-01 00:00", "9999-12-31 23:59:59"])
def test_a_moment_at_the_calendars_ends_is_refused_not_a_server_error(history, admin_client, moment):
    """The timeline's margin around such a moment leaves the calendar (OverflowError: a 500 page)."""
    cluster, _, _ = history
    response = admin_client.get(reverse("admin:nodes_fencerestart_fleet_at", args=[cluster.pk]), {"at": moment})
    assert response.status_code == 400 and "is not between 1970 and 2999" in response.content.decode()
