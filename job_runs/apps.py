from django.apps import AppConfig


class JobRunsConfig(AppConfig):
    name = "job_runs"
    verbose_name = "Job runs"
    default_auto_field = "django.db.models.BigAutoField"
