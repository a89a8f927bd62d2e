"""The governance record for auditors: every approval request, approval,
rejection, expiry, window wait and override, pause, resume and gate
decision, across rollouts. Read-only for everyone (ReadOnlyAdmin); the rows
are append-only below the ORM too (images/rollout_event_triggers.py)."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from images.models import RolloutEvent
from stackato_dash.read_only_admin import ReadOnlyAdmin


@admin.register(RolloutEvent)
class RolloutEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "cluster", "rollout_link", "reason"]
    list_filter = ["kind", "rollout__cluster"]
    list_select_related = ["rollout__cluster"]
    search_fields = ["username", "reason"]
    date_hierarchy = "at"
    actions = None
    fields = ["at", "kind", "username", "rollout", "reason", "chain_seq", "prev_hash", "row_hash"]
    readonly_fields = ["chain_seq", "prev_hash", "row_hash"]  # not editable: shown only when named

    @admin.display(description="cluster", ordering="rollout__cluster__name")
    def cluster(self, event):
        return event.rollout.cluster.name

    @admin.display(description="rollout")
    def rollout_link(self, event):
        return format_html('<a href="{}">{}</a>', reverse("admin:images_rollout_change", args=[event.rollout_id]),
                           event.rollout)
