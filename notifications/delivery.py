"""The RQ job that delivers one event: a signed POST to a webhook, or a
mail through Django's mail settings. A failure raises, so the job lifecycle
(job_runs) ends the attempt errored and RQ's Retry queues the next one after
its backoff; the Delivery row says which attempt it was and why it failed."""
import hashlib
import hmac
import json
import os
import urllib.parse

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from rq import get_current_job

from job_runs import lifecycle
from notifications.models import Channel, Delivery, DeliveryStatus
from stackato_dash import queueing

SIGNATURE_HEADER = "X-Stackato-Dash-Signature"


class DeliveryFailed(Exception):
    """The receiver or the mail server did not take it; RQ retries."""


def signature(secret: str, body: bytes) -> str:
    """What a receiver recomputes over the raw body to trust it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _attempt_failed(delivery_id: str, reason: str) -> None:
    job = get_current_job()
    retrying = bool(job and job.retries_left)
    Delivery.objects.filter(pk=delivery_id).exclude(status=DeliveryStatus.DELIVERED).update(
        status=DeliveryStatus.RETRYING if retrying else DeliveryStatus.FAILED, error=reason)


@lifecycle.job(on_error=_attempt_failed)
def deliver(delivery_id: str) -> str:
    delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.status == DeliveryStatus.DELIVERED:
        return "delivered already"
    Delivery.objects.filter(pk=delivery_id).update(attempts=delivery.attempts + 1)
    if delivery.channel == Channel.WEBHOOK:
        code = post(delivery)
    else:
        send(delivery)
        code = None
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.DELIVERED, response_code=code, error="",
                                                   delivered_at=timezone.now())
    return f"delivered to {delivery.target}"


# On the notifications queue, run by its own workers: a receiver that hangs
# holds one of them, never a worker a rollout step waits for (queueing.py).
deliver.rq_queue = queueing.NOTIFICATIONS


def post(delivery) -> int:
    if delivery.webhook is None:
        raise DeliveryFailed("its webhook was deleted")
    secret = os.environ.get(delivery.webhook.secret_env, "")
    if not secret:
        raise DeliveryFailed(f"the environment variable {delivery.webhook.secret_env} (the signing secret) is not set "
                             "for the workers")
    url = delivery.webhook.url or os.environ.get(delivery.webhook.url_env, "")
    if not url:
        raise DeliveryFailed(f"the environment variable {delivery.webhook.url_env} (the webhook's URL) is not set "
                             "for the workers")
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "stackato_dash", SIGNATURE_HEADER: signature(secret, body),
               "X-Stackato-Dash-Event": delivery.event, "X-Stackato-Dash-Delivery": str(delivery.pk)}
    try:
        response = requests.post(url, data=body, headers=headers, timeout=settings.NOTIFY_TIMEOUT,
                                 allow_redirects=False)
    except requests.RequestException as error:
        raise DeliveryFailed(f"{delivery.target}: {error.__class__.__name__}: {_without(url, str(error), delivery)}") from None
    Delivery.objects.filter(pk=delivery.pk).update(response_code=response.status_code)
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{delivery.target} answered {response.status_code}")
    return response.status_code


def _without(url: str, message: str, delivery) -> str:
    """requests names the URL (or its path, where the token of a chat
    webhook is) in its errors: a URL kept in the environment must not reach
    the delivery log that way."""
    if delivery.webhook.url:
        return message
    path = urllib.parse.urlsplit(url).path
    message = message.replace(url, delivery.target)
    return message.replace(path, "/…") if len(path) > 1 else message


def send(delivery) -> None:
    rollout = delivery.payload["rollout"]
    subject = f"[stackato_dash] {delivery.get_event_display()} on {rollout['cluster']}: {rollout['target_image']}"
    lines = [f"{key.replace('_', ' ')}: {value}" for key, value in rollout.items() if value]
    recipients = [a.strip() for a in delivery.target.split(",") if a.strip()]
    try:
        send_mail(subject, "\n".join(lines), None, recipients)
    except Exception as error:  # noqa: BLE001 - any mail backend failure is a failed attempt, retried
        raise DeliveryFailed(f"mail to {delivery.target}: {error.__class__.__name__}: {error}") from None
