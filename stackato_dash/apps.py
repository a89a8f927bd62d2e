from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the console's site as admin.site, so every
    @admin.register lands on it."""
    default_site = "stackato_dash.admin_site.ConsoleAdminSite"
