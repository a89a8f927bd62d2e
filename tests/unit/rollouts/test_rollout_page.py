"""The rollout page and its live fragment, without a cluster: the rows only."""
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from rq import Queue, Worker

from images.models.rollout import Phase, Rollout, RolloutStep
from nodes.models import Cluster, Node
from stackato_dash import console
from support.rq import register_idle_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def rollout():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    rollout = Rollout.objects.create(cluster=cluster, target_image="reg/app:2", target_pull="reg/app:2",
                                     previous_image="reg/app:1", requested_by_username="ops", reason="fix",
                                     status="activating", decisions="canaries first")
    now = timezone.now()
    for number, status in enumerate(["succeeded", "running"]):
        node = Node.objects.create(cluster=cluster, address=f"10.0.0.{20 + number}", roles=["dea"])
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.PULL, image="reg/app:2", status="succeeded",
                                   started_at=now - timedelta(seconds=30), finished_at=now - timedelta(seconds=20))
        RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.RESTART, image="reg/app:2", status=status,
                                   started_at=now - timedelta(seconds=10), output=f"restart log {number}",
                                   finished_at=now if status == "succeeded" else None)
    return rollout


def test_the_fragment_shows_progress_nodes_timeline_and_decisions(admin_client, rollout):
    page = admin_client.get(reverse("admin:images_rollout_progress", args=[rollout.pk])).content.decode()
    assert "1 / 2 (50%)" in page
    assert "restart log 0" in page and "restart log 1" in page and "canaries first" in page
    assert page.count('class="step-succeeded"') == 3 and page.count('class="step-running"') == 1
    assert 'value="Cancel…"' in page and 'data-finished=""' in page


def test_start_and_end_are_shown_as_the_decisions_show_times(admin_client, rollout):
    """Not the locale's "Nov. 30, 2026, 4:24 a.m." (which ended the line in "a.m..")."""
    page = admin_client.get(reverse("admin:images_rollout_progress", args=[rollout.pk])).content.decode()
    assert "Started not yet." in page
    start = datetime(2026, 11, 30, 4, 23, 51, tzinfo=UTC)
    Rollout.objects.filter(pk=rollout.pk).update(started_at=start, finished_at=start + timedelta(seconds=41),
                                                 status="succeeded")
    page = admin_client.get(reverse("admin:images_rollout_progress", args=[rollout.pk])).content.decode()
    assert "Started 2026-11-30 04:23:51 UTC, finished 2026-11-30 04:24:32 UTC." in page


def test_the_fragment_is_a_read_only_get(admin_client, rollout):
    url = reverse("admin:images_rollout_progress", args=[rollout.pk])
    assert admin_client.post(url).status_code == 404
    assert Rollout.objects.get(pk=rollout.pk).status == "activating"


def test_a_viewer_reads_the_page_without_cancel(client, django_user_model, rollout):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_rollout"))
    client.force_login(viewer)
    page = client.get(reverse("admin:images_rollout_change", args=[rollout.pk])).content.decode()
    assert 'id="rollout-progress"' in page and "1 / 2 (50%)" in page
    assert "Cancel…" not in page


def test_cancel_asks_first_and_changes_nothing_until_confirmed(admin_client, rollout):
    changelist = reverse("admin:images_rollout_changelist")
    page = admin_client.post(changelist, {"action": "cancel", "_selected_action": [rollout.pk]})
    assert b"Yes, cancel" in page.content
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested
    # A GET never acts, even with the confirmation's fields: the changelist
    # refuses them as unknown filters (?e=1).
    page = admin_client.get(changelist, {"action": "cancel", "_selected_action": [rollout.pk], "post": "yes"})
    assert page.status_code == 302 and page.url.endswith("?e=1")
    assert not Rollout.objects.get(pk=rollout.pk).cancel_requested


def test_home_says_when_no_worker_is_alive(admin_client, rollout, clean_queue):
    assert Worker.all(queue=clean_queue) == []  # real Redis, answering, with no worker on the queue
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Queue <code>default</code>: 0 job(s) waiting;" in page and "no worker is alive" in page
    assert "Redis does not answer" not in page
    assert "canaries first" not in page and "reg/app:2" in page


def test_home_shows_the_workers_alive(admin_client, rollout, clean_queue):
    worker = register_idle_worker()
    worker.set_state("idle")  # what a real worker waiting for jobs reports
    try:
        page = admin_client.get(reverse("admin:index")).content.decode()
    finally:
        worker.register_death()
    health = " ".join(page.split('id="job-health"', 1)[1].split("</ul>", 1)[0].split())
    default, notifications = health.split("<li>")[1:]
    assert f"1 worker(s) alive</span> ({worker.name}: idle)" in default and "no worker is alive" not in default
    # A worker on the default queue only: rollouts run; notifications wait, and the page says so.
    assert notifications.startswith("Queue <code>notifications</code>: 0 job(s) waiting;")
    assert ("no worker is alive: rollout notifications (webhooks, mail) stay queued until one runs; rollouts go on "
            "without them (<code>manage.py rqworker-pool notifications</code>)") in notifications


def test_home_says_when_redis_does_not_answer(admin_client, rollout, monkeypatch):
    nothing_listens = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=1)
    monkeypatch.setattr(console.django_rq, "get_queue", lambda name: Queue(name, connection=nothing_listens))
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Redis does not answer (Error 111 connecting to 127.0.0.1:9. Connection refused.)" in page
    assert "no worker is alive" not in page
