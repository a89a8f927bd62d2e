from django.contrib import admin

from nodes.models import FenceRestart


@admin.register(FenceRestart)
class FenceRestartAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the history is evidence."""
    list_display = ["started_at", "node_address", "cluster", "requested_by_username", "outcome", "image_before", "image_after", "reason"]
    list_filter = ["outcome", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["image_before", "image_after", "reason", "node_address"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
