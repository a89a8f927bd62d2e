"""Notifications go to a queue of their own (settings.RQ_QUEUES
"notifications"), consumed by their own workers, while the rollout's decide
job and its steps stay on the default queue: a webhook that hangs holds a
notification worker, never one a rollout step waits for. Real Redis, a
worker registered on the default queue only (the `worker` fixture), nothing run."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rq import Worker

from images.models import Status
from images.models.rollout import RolloutStep
from images.rollouts import jobs, start
from job_runs import reconciler
from job_runs.models import JobRun
from nodes.models import Cluster, Node
from notifications.models import Delivery, DeliveryStatus, Webhook
from stackato_dash import queueing
from support.image_versions import draft_version
from support.job_runs import clean_queue, worker  # noqa: F401  the fixtures, used by name
from support.rq import IdleWorker

pytestmark = pytest.mark.django_db

REGISTRY = "10.0.0.11:5000"
TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}
# The DEA's engine may pull from the plain-HTTP registry (images/rollouts/pull_check.py).
PULLS = {"IndexConfigs": {REGISTRY: {"Name": REGISTRY, "Secure": False, "Mirrors": []}},
         "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []}


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry=REGISTRY)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], registry_config=PULLS,
                        desired_image="stackato/app-holophonor:3.0.0", **TRUSTED)
    Webhook.objects.create(cluster=cluster, url="http://127.0.0.1:9/hook", secret_env="HOOK_SECRET")
    return cluster


def functions_queued(name: str) -> list[str]:
    return [job.func_name for job in queueing.get_queue(name).get_jobs()]


def start_rollout(cluster, admin_user, capture):
    version = draft_version(cluster, "1.0.1", status=Status.PUSHED, image_id="sha256:" + "1" * 64,
                            manifest_digest="sha256:" + "2" * 64,
                            registry_reference=f"{REGISTRY}/exampleco/newimg:1.0.1")
    with capture(execute=True):
        return start.rollout_version(version, user=admin_user, reason="monthly")


def test_the_delivery_goes_to_the_notifications_queue_and_the_rollout_to_the_default(
        cluster, admin_user, worker, django_capture_on_commit_callbacks):  # noqa: F811
    notifications = queueing.get_queue(queueing.NOTIFICATIONS)
    # No worker listens on the notifications queue: the rollout is not refused for it.
    assert Worker.all(queue=notifications) == []
    rollout = start_rollout(cluster, admin_user, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(rollout_id=rollout.pk)
    [job] = notifications.get_jobs()
    assert (job.func_name, list(job.args)) == ("notifications.delivery.deliver", [str(delivery.pk)])
    assert delivery.status == DeliveryStatus.QUEUED  # and it stays so until a notifications worker runs
    assert functions_queued(queueing.QUEUE) == ["images.rollouts.jobs.advance_rollout"]  # its decide job

    with django_capture_on_commit_callbacks(execute=True):
        jobs.advance(rollout.pk)  # the decide job's body: it queues the first step
    _decide, *step_jobs = queueing.get_queue(queueing.QUEUE).get_jobs()
    assert step_jobs and {job.func_name for job in step_jobs} == {"images.rollouts.jobs.run_rollout_step"}
    assert {job.id for job in step_jobs} <= set(RolloutStep.objects.filter(rollout=rollout).values_list("job_id", flat=True))
    assert functions_queued(queueing.NOTIFICATIONS) == ["notifications.delivery.deliver"]


def test_a_delivery_redis_lost_is_queued_again_on_the_notifications_queue(
        cluster, admin_user, worker, django_capture_on_commit_callbacks):  # noqa: F811
    rollout = start_rollout(cluster, admin_user, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(rollout_id=rollout.pk)
    notifications = queueing.get_queue(queueing.NOTIFICATIONS)
    notifications.empty()  # Redis forgot it (emptied by hand, a restart without its file)
    run = JobRun.objects.get(object_id=str(delivery.pk))
    JobRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):  # django-rq queues at commit, as a worker's pass does
        lines = reconciler.reconcile(queueing.get_queue())

    assert any(line.startswith("rollout.started to ") and "queued again" in line for line in lines), lines
    [job] = notifications.get_jobs()
    assert (job.id, list(job.args)) == (run.rq_job_id, [str(delivery.pk)])
    assert "notifications.delivery.deliver" not in functions_queued(queueing.QUEUE)


def test_the_delivery_log_says_when_no_worker_listens_on_the_notifications_queue(
        admin_client, cluster, admin_user, worker, django_capture_on_commit_callbacks):  # noqa: F811
    start_rollout(cluster, admin_user, django_capture_on_commit_callbacks)
    page = admin_client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert "No RQ worker listens on the &#x27;notifications&#x27; queue: deliveries stay queued until one runs" in page
    assert "rollout started" in page and ">queued<" in page

    notifications = queueing.get_queue(queueing.NOTIFICATIONS)
    notifier = IdleWorker([notifications], connection=notifications.connection)
    notifier.register_birth()
    try:
        page = admin_client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    finally:
        notifier.register_death()
    assert "No RQ worker listens" not in page


def test_a_notifications_worker_alone_does_not_let_a_rollout_start(
        cluster, admin_user, clean_queue, django_capture_on_commit_callbacks):  # noqa: F811  the fixture
    """It never runs a rollout's jobs: they would wait forever."""
    notifications = queueing.get_queue(queueing.NOTIFICATIONS)
    notifier = IdleWorker([notifications], connection=notifications.connection)
    notifier.register_birth()
    try:
        with pytest.raises(start.RolloutRefused, match="No RQ worker is running for the 'default' queue"):
            start_rollout(cluster, admin_user, django_capture_on_commit_callbacks)
    finally:
        notifier.register_death()
    assert not Delivery.objects.exists() and queueing.get_queue().count == 0
