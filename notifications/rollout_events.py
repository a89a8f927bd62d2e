"""Which rollout changes are announced, and queueing their deliveries.

Every change of a rollout's status goes through Rollout.save() (the engine,
start, recover), so a post_save receiver sees each one whoever made it,
without the engine knowing about notifications. The status the row was
loaded with is kept on the instance (post_init) to tell a change from a
save that changed something else. Deliveries are rows written in the same
transaction as the status, and their jobs queued after it commits."""
import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_init, post_save
from rq import Retry

from images.models.rollout import NOT_STARTED, Rollout, RolloutStatus
from notifications import delivery
from notifications.models import Channel, Delivery, DeliveryStatus, Event, MailNotification, Webhook
from stackato_dash import queueing

ENDINGS = {RolloutStatus.SUCCEEDED: Event.SUCCEEDED, RolloutStatus.FAILED: Event.FAILED,
           RolloutStatus.ERRORED: Event.FAILED, RolloutStatus.ROLLED_BACK: Event.ROLLED_BACK}
# Where a person must act for the rollout to go on.
WAITS = {RolloutStatus.AWAITING_GATE: Event.GATE_WAITING}

logger = logging.getLogger(__name__)


def connect():
    post_init.connect(_remember_status, sender=Rollout, dispatch_uid="notifications.remember_status")
    post_save.connect(_status_saved, sender=Rollout, dispatch_uid="notifications.status_saved")


def _remember_status(sender, instance, **kwargs):
    instance._announced_status = instance.__dict__.get("status")


def _status_saved(sender, instance, created, **kwargs):
    before, instance._announced_status = getattr(instance, "_announced_status", None), instance.status
    if created and instance.status == RolloutStatus.AWAITING_APPROVAL:
        announce(instance, Event.APPROVAL_NEEDED)
    elif created and instance.status == RolloutStatus.WAITING_FOR_WINDOW:
        return  # announced as started when its window opens (or it is overridden)
    elif created or (instance.status != before and before in NOT_STARTED and instance.status == RolloutStatus.PLANNED):
        announce(instance, Event.STARTED)
    elif instance.status != before and instance.status in ENDINGS:
        announce(instance, ENDINGS[instance.status])
    elif instance.status != before and instance.status in WAITS:
        announce(instance, WAITS[instance.status])


def payload(rollout, event: str) -> dict:
    return {"event": event, "rollout": {
        "id": str(rollout.pk), "cluster": rollout.cluster.name, "kind": rollout.kind, "status": rollout.status,
        "status_reason": rollout.status_reason, "target_image": rollout.target_image,
        "previous_image": rollout.previous_image, "requested_by": rollout.requested_by_username,
        "reason": rollout.reason}}


def announce(rollout, event: str) -> list[Delivery]:
    body = payload(rollout, event)
    deliveries = [Delivery(channel=Channel.WEBHOOK, webhook=hook, target=hook.shown_url, event=event, rollout_id=rollout.pk,
                           payload=body)
                  for hook in Webhook.objects.filter(cluster_id=rollout.cluster_id, enabled=True)
                  if event in hook.events]
    deliveries += [Delivery(channel=Channel.MAIL, mail=mail, target=mail.addresses, event=event,
                            rollout_id=rollout.pk, payload=body)
                   for mail in MailNotification.objects.filter(cluster_id=rollout.cluster_id, enabled=True)
                   if event in mail.events]
    Delivery.objects.bulk_create(deliveries)
    for each in deliveries:
        transaction.on_commit(lambda each=each: _queue(each))
    return deliveries


def _queue(each: Delivery) -> None:
    """After the rollout's transaction commits, beside the rollout's own jobs
    (start's decide, the steps the engine chose) but on the notifications
    queue (delivery.deliver.rq_queue), so it never waits for or holds a
    rollout's worker: a delivery that cannot be
    queued (Redis hiccup, a locked database) is marked failed here, never
    raised, or Django would skip the commit callbacks after it and the
    rollout would wait forever for jobs never queued."""
    intervals = settings.NOTIFY_RETRY_INTERVALS
    try:
        queueing.enqueue(delivery.deliver, str(each.pk), description=f"{each.event} to {each.target}"[:300],
                         retry=Retry(max=len(intervals), interval=intervals) if intervals else None)
    except Exception as error:  # noqa: BLE001 - no notification failure may stop a rollout
        reason = f"could not be queued: {error.__class__.__name__}: {error}"
        logger.warning("delivery %s of %s: %s", each.pk, each.event, reason)
        try:
            Delivery.objects.filter(pk=each.pk).update(status=DeliveryStatus.FAILED, error=reason)
        except Exception:  # noqa: BLE001 - the warning above is all that can be done
            logger.exception("delivery %s: could not record that it was not queued", each.pk)
