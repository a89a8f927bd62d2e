"""An admin for records nobody edits from the console (their jobs and actions
change them): an audit history, the rollouts and their events, a
log of deliveries, the job rows. Viewing stays governed by the view
permission; adding, changing and deleting are refused for everyone,
superusers included (the database's own triggers guard the audit as well)."""
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
