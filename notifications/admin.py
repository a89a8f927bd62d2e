from django.contrib import admin, messages
from django.db import models
from rq import Worker

from notifications.models import Delivery, MailNotification, Webhook
from stackato_dash import queueing
from stackato_dash.read_only_admin import ReadOnlyAdmin


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["shown_url", "cluster", "secret_env", "events", "enabled"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["cluster", "enabled"]

    @admin.display(description="URL", ordering="url")
    def shown_url(self, webhook):
        return webhook.shown_url


@admin.register(MailNotification)
class MailNotificationAdmin(admin.ModelAdmin):
    list_display = ["addresses", "cluster", "events", "enabled"]
    list_filter = ["cluster", "enabled"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: read-only, written by the delivery jobs."""
    list_display = ["created_at", "event", "channel", "target", "status", "attempts", "response_code", "error"]
    list_filter = ["status", "event", "channel"]
    search_fields = ["target", "rollout_id"]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def changelist_view(self, request, extra_context=None):
        waiting = no_worker_warning()
        if waiting:
            messages.warning(request, waiting)
        return super().changelist_view(request, extra_context)


def no_worker_warning() -> str:
    """Deliveries have workers of their own (queueing.NOTIFICATIONS): without
    one they wait, queued, while rollouts go on; the log says why."""
    queue = queueing.get_queue(queueing.NOTIFICATIONS)
    try:
        if Worker.all(queue=queue):
            return ""
    except Exception as error:  # noqa: BLE001 - any Redis failure is shown, not raised
        return f"Redis does not answer ({error}): deliveries cannot be queued or sent."
    return (f"No RQ worker listens on the '{queueing.NOTIFICATIONS}' queue: deliveries stay queued until one runs "
            f"(`manage.py rqworker-pool {queueing.NOTIFICATIONS}`, README: Running the workers). Rollouts go on "
            "without them.")
