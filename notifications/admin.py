from django.contrib import admin
from django.db import models

from notifications.models import Delivery, MailNotification, Webhook
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
