"""A webhook endpoint that hangs never holds a rollout: the rollout's jobs
run on a real `rqworker` for the default queue, the notifications on one of
their own (`rqworker notifications`), with the 4-DEA sandbox and a real HTTP
receiver on 127.0.0.1 that takes the POST and does not answer until the test
lets it. The POST may hang the whole rollout long (NOTIFY_TIMEOUT 600 s on
the notifications worker): the rollout must end all the same."""
import json

import pytest

from images.models.rollout import Rollout, RolloutStatus
from notifications.models import Delivery, DeliveryStatus, Event, Webhook
from stackato_dash import queueing
from support.http_receiver import Receiver
from support.rollout_driving import config_image, roll_out
from support.waiting import wait_until
from support.worker_process import kill_worker, start_worker, wait_until_registered

SECRET = "sandbox-webhook-secret"  # noqa: S105  a test value, not a secret

pytestmark = pytest.mark.django_db(transaction=True)


def finished(rollout_id):
    rollout = Rollout.objects.get(pk=rollout_id)
    return rollout if rollout.is_finished else None


def delivery(rollout, event) -> Delivery:
    return Delivery.objects.get(rollout_id=rollout.pk, event=event)


def test_a_rollout_runs_to_its_end_while_its_webhook_hangs(rollout_sandbox, rollout_fleet, version, admin_client):
    receiver = Receiver(hold=True)
    Webhook.objects.create(cluster=rollout_fleet, url=receiver.url, secret_env="SANDBOX_HOOK_SECRET")
    # One worker for rollouts (as few as an operator may run), one for notifications.
    worker = start_worker()
    notifier = start_worker(queueing.NOTIFICATIONS, SANDBOX_HOOK_SECRET=SECRET, NOTIFY_TIMEOUT="600")
    try:
        wait_until_registered(worker, notifier)
        rollout = roll_out(admin_client, version)
        wait_until(receiver.arrived.is_set, "the started notification to reach the webhook, which then hangs")

        ended = wait_until(lambda: finished(rollout.pk), "the rollout to end while its webhook hangs", timeout=600)

        assert ended.status == RolloutStatus.SUCCEEDED, ended.decisions
        assert config_image(rollout_sandbox) == version.registry_reference
        # The webhook still holds the first POST: the started notification is
        # in its first attempt, the succeeded one waits for the notifications worker.
        assert (delivery(ended, Event.STARTED).status, delivery(ended, Event.STARTED).attempts) == (
            DeliveryStatus.QUEUED, 1)
        assert (delivery(ended, Event.SUCCEEDED).status, delivery(ended, Event.SUCCEEDED).attempts) == (
            DeliveryStatus.QUEUED, 0)
        assert len(receiver.requests) == 1

        receiver.release()  # the endpoint answers again: both go out, in order
        wait_until(lambda: set(Delivery.objects.filter(rollout_id=rollout.pk).values_list("status", flat=True))
                   == {DeliveryStatus.DELIVERED}, "both notifications delivered once the webhook answers")
    finally:
        kill_worker(worker)
        kill_worker(notifier)
        receiver.close()
    assert [json.loads(body)["event"] for _, body in receiver.requests] == [Event.STARTED, Event.SUCCEEDED]
