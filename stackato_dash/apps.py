from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the console's site as admin.site, so every
    @admin.register lands on it."""
    default_site = "stackato_dash.admin_site.ConsoleAdminSite"

    def ready(self):
        super().ready()  # autodiscover: django-rq registers its dashboard here
        from django.contrib import admin
        from django_rq.models import Dashboard

        from stackato_dash.job_queue_admin import JobQueueAdmin

        if admin.site.is_registered(Dashboard):
            admin.site.unregister(Dashboard)
            admin.site.register(Dashboard, JobQueueAdmin)
