"""Rollout events announced to a real HTTP receiver on 127.0.0.1
(support/http_receiver.py) and through Django's file mail backend; the delivery jobs run
by an RQ worker in this process on the test's own Redis, retries by RQ."""
import hashlib
import hmac
import json

import pytest
import redis
from django.db import transaction
from django.urls import reverse

from images.models.rollout import Rollout, RolloutStatus
from job_runs.models import JobRun
from nodes.models import Cluster
from notifications import delivery as delivery_job
from notifications.models import Delivery, MailNotification, Webhook
from stackato_dash import queueing
from support.http_receiver import Receiver
from support.job_runs import clean_queue  # noqa: F401  the fixture, used by name
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db
SECRET = "receiver-shared-secret"  # noqa: S105  a test value, not a secret


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def cluster(settings, monkeypatch, clean_queue):  # noqa: F811
    settings.NOTIFY_RETRY_INTERVALS = [0, 0]  # RQ re-queues at once: the burst worker takes the retry
    monkeypatch.setenv("HOOK_SECRET_PROD", SECRET)
    return Cluster.objects.create(name="prod", core_address="10.0.0.11")


def start_rollout(cluster, capture) -> Rollout:
    with capture(execute=True):
        return Rollout.objects.create(cluster=cluster, target_image="reg:5000/app:2", target_pull="reg:5000/app:2",
                                      requested_by_username="ops", reason="CVE fix")


def test_started_is_posted_signed_with_the_secret(cluster, receiver, django_capture_on_commit_callbacks):
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_PROD")
    rollout = start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    [(headers, body)] = receiver.requests
    assert headers["X-Stackato-Dash-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    document = json.loads(body)
    assert document["event"] == "rollout.started"
    assert document["rollout"]["id"] == str(rollout.pk) and document["rollout"]["reason"] == "CVE fix"
    assert SECRET not in body.decode() and headers["X-Stackato-Dash-Event"] == "rollout.started"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert headers["X-Stackato-Dash-Delivery"] == str(delivery.pk)
    assert JobRun.objects.get(object_id=str(delivery.pk)).status == "succeeded"


def test_a_failing_receiver_is_retried_by_rq_until_it_takes_it(cluster, receiver, django_capture_on_commit_callbacks):
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_PROD")
    receiver.codes = [500, 503]
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    assert len(receiver.requests) == 3
    assert len({headers["X-Stackato-Dash-Delivery"] for headers, _ in receiver.requests}) == 1  # one delivery, 3 tries
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("delivered", 3, "")
    run = JobRun.objects.get(object_id=str(delivery.pk))
    assert (run.status, run.attempts) == ("succeeded", 3)


def test_retries_run_out_and_the_log_says_why(cluster, receiver, django_capture_on_commit_callbacks):
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_PROD")
    receiver.codes = [500, 500, 500]
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 500)
    assert delivery.error.endswith(f"DeliveryFailed: {receiver.url} answered 500")


def test_no_secret_in_the_environment_sends_nothing(cluster, receiver, monkeypatch, django_capture_on_commit_callbacks):
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_MISSING")
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    assert receiver.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "HOOK_SECRET_MISSING (the signing secret) is not set" in delivery.error


def test_only_status_changes_to_an_ending_are_announced_and_only_to_subscribers(
        cluster, receiver, django_capture_on_commit_callbacks):
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_PROD",
                           events=["rollout.rolled_back"])
    rollout = start_rollout(cluster, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        loaded = Rollout.objects.get(pk=rollout.pk)
        loaded.status = RolloutStatus.ACTIVATING
        loaded.save()
        loaded.decisions = "canary failed\n"
        loaded.save()
        loaded.status = RolloutStatus.ROLLED_BACK
        loaded.save()
        loaded.save()  # no change of status: nothing more
    run_queued_jobs()
    assert [json.loads(body)["event"] for _, body in receiver.requests] == ["rollout.rolled_back"]


def test_mail_goes_through_djangos_mail_settings(cluster, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    MailNotification.objects.create(cluster=cluster, addresses="ops@example.org, lead@example.org")
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    [sent] = list(tmp_path.iterdir())
    text = sent.read_text()
    assert "Subject: [stackato_dash] rollout started on prod: reg:5000/app:2" in text
    assert "To: ops@example.org, lead@example.org" in text and "reason: CVE fix" in text
    assert Delivery.objects.get().status == "delivered"


def test_the_delivery_log_is_read_only_in_the_admin(admin_client, cluster, receiver, django_capture_on_commit_callbacks):
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_MISSING")
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    page = admin_client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert receiver.url in page and "failed (no retry left)" in page
    assert admin_client.get(reverse("admin:notifications_delivery_add")).status_code == 403


def test_a_webhook_names_an_environment_variable_not_a_secret(admin_client, cluster):
    page = admin_client.post(reverse("admin:notifications_webhook_add"), {
        "cluster": cluster.pk, "url": "http://127.0.0.1:9/hook", "secret_env": "s3cret value",
        "events": '["rollout.started"]', "enabled": "on"})
    assert "An environment variable name" in page.content.decode() and not Webhook.objects.exists()


def test_a_delivery_that_cannot_be_queued_never_stops_the_rollout(cluster, receiver, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    """The rollout's own commit callbacks (start's decide job, the engine's
    steps) come after the announcement's: a notification that cannot be
    queued must not raise, or they never run and the rollout waits forever."""
    Webhook.objects.create(cluster=cluster, url=receiver.url, secret_env="HOOK_SECRET_PROD")
    real_enqueue = queueing.enqueue

    def redis_hiccup(func, *ids, **options):
        if func is delivery_job.deliver:
            raise redis.exceptions.ConnectionError("Connection reset by peer")
        return real_enqueue(func, *ids, **options)
    monkeypatch.setattr(queueing, "enqueue", redis_hiccup)
    rollout_jobs = []

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():  # as start.py: the row, then its decide job after commit
            rollout = Rollout.objects.create(cluster=cluster, target_image="reg:5000/app:2",
                                             target_pull="reg:5000/app:2", requested_by_username="ops", reason="fix")
            transaction.on_commit(lambda: rollout_jobs.append(rollout.pk))

    assert rollout_jobs == [rollout.pk]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.error) == (
        "failed", "could not be queued: ConnectionError: Connection reset by peer")


def test_a_webhook_url_with_a_login_is_refused(admin_client, cluster):
    """A password in the URL would be stored and shown in the delivery log,
    job descriptions and error messages."""
    page = admin_client.post(reverse("admin:notifications_webhook_add"), {
        "cluster": cluster.pk, "url": "http://ops:hunter2@127.0.0.1:9/hook", "secret_env": "HOOK_SECRET_PROD",
        "events": '["rollout.started"]', "enabled": "on"})
    assert "No user or password in the URL" in page.content.decode() and not Webhook.objects.exists()


TOKEN_PATH = "/services/T0001/B0001/xoxb-t0ken"  # noqa: S105  a made-up chat webhook path (its path is the secret)


def test_a_url_kept_in_the_environment_is_used_and_never_stored_or_shown(
        admin_client, cluster, receiver, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setenv("HOOK_URL_PROD", receiver.url.replace("/hook", TOKEN_PATH))
    Webhook.objects.create(cluster=cluster, url_env="HOOK_URL_PROD", secret_env="HOOK_SECRET_PROD")
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    assert receiver.paths == [TOKEN_PATH]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.target) == ("delivered", "URL in $HOOK_URL_PROD")
    for page in ("admin:notifications_delivery_changelist", "admin:notifications_webhook_changelist"):
        html = admin_client.get(reverse(page)).content.decode()
        assert "URL in $HOOK_URL_PROD" in html and "t0ken" not in html


def test_a_failure_to_post_to_a_url_from_the_environment_does_not_log_its_token(
        cluster, receiver, monkeypatch, django_capture_on_commit_callbacks):
    receiver.close()  # nothing answers at its port now
    monkeypatch.setenv("HOOK_URL_PROD", receiver.url.replace("/hook", TOKEN_PATH))
    Webhook.objects.create(cluster=cluster, url_env="HOOK_URL_PROD", secret_env="HOOK_SECRET_PROD")
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "URL in $HOOK_URL_PROD: ConnectionError" in delivery.error
    assert "t0ken" not in delivery.error and "B0001" not in delivery.error


def test_a_url_variable_missing_from_the_environment_is_a_clear_failure(
        cluster, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.delenv("HOOK_URL_PROD", raising=False)
    Webhook.objects.create(cluster=cluster, url_env="HOOK_URL_PROD", secret_env="HOOK_SECRET_PROD")
    start_rollout(cluster, django_capture_on_commit_callbacks)
    run_queued_jobs()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "HOOK_URL_PROD (the webhook's URL) is not set" in delivery.error


@pytest.mark.parametrize("url, url_env", [("", ""), ("http://127.0.0.1:9/hook", "HOOK_URL_PROD")])
def test_a_webhook_has_either_a_url_or_its_variable(admin_client, cluster, url, url_env):
    page = admin_client.post(reverse("admin:notifications_webhook_add"), {
        "cluster": cluster.pk, "url": url, "url_env": url_env, "secret_env": "HOOK_SECRET_PROD",
        "events": '["rollout.started"]', "enabled": "on"})
    assert "Give either the URL or the name of the environment variable" in page.content.decode()
    assert not Webhook.objects.exists()
