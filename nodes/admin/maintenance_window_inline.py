"""A cluster's weekly maintenance windows, on its page. Like the cluster's
steering fields (cluster_admin.py), changing them is the Release manager's
call: others (an Operator alone) see them read-only."""
from django.contrib import admin

from nodes.models import MaintenanceWindow

RELEASE_MANAGER = "images.activate_rollout"


class MaintenanceWindowInline(admin.TabularInline):
    model = MaintenanceWindow
    extra = 0
    verbose_name_plural = "maintenance windows (weekly, in the cluster's windows timezone; none: rollouts start at once)"

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and request.user.has_perm(RELEASE_MANAGER)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and request.user.has_perm(RELEASE_MANAGER)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and request.user.has_perm(RELEASE_MANAGER)
