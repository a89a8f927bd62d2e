"""The job rows, read-only: what ran, where, how it ended and why. The
reconciler and the jobs write them; nobody edits them by hand."""
from django.contrib import admin

from job_runs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["description", "status", "reason", "worker_name", "attempts", "enqueued_at", "started_at",
                    "finished_at", "last_heartbeat"]
    list_filter = ["status", "func_name"]
    search_fields = ["description", "rq_job_id", "object_id"]
    date_hierarchy = "enqueued_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
