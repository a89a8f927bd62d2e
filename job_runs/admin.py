"""The job rows, read-only: what ran, where, how it ended and why. The
reconciler and the jobs write them; nobody edits them by hand."""
from django.contrib import admin

from job_runs.models import JobRun
from stackato_dash.read_only_admin import ReadOnlyAdmin


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["description", "status", "reason", "worker_name", "attempts", "enqueued_at", "started_at",
                    "finished_at", "last_heartbeat"]
    list_filter = ["status", "func_name"]
    search_fields = ["description", "rq_job_id", "object_id"]
    date_hierarchy = "enqueued_at"
