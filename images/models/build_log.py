from django.db import models
from django.utils import timezone


class BuildLogLine(models.Model):
    """One line of build or push output, stored as it arrives, so the console
    shows a running build live and a killed worker loses nothing written."""
    version = models.ForeignKey("images.ImageVersion", on_delete=models.CASCADE, related_name="log_lines")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="build_log_line_number_unique")]

    def __str__(self):
        return f"{self.number}: {self.text[:80]}"
