from django.contrib import admin

from stackato_dash import console


class ConsoleAdminSite(admin.AdminSite):
    """The admin whose home page is the fleet overview (templates/admin/index.html)."""

    def index(self, request, extra_context=None):
        overview = {"clusters": console.clusters(), "activity": console.activity(), "jobs": console.job_health()}
        return super().index(request, {**overview, **(extra_context or {})})
