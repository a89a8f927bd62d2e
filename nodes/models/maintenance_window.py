"""A cluster's weekly maintenance window (nodes/maintenance_windows.py says
how windows are read: wall-clock time in the cluster's timezone)."""
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from nodes import maintenance_windows


class MaintenanceWindow(models.Model):
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.CASCADE, related_name="maintenance_windows")
    weekday = models.PositiveSmallIntegerField(
        choices=list(enumerate(maintenance_windows.WEEKDAYS)), validators=[MaxValueValidator(6)])
    start = models.TimeField(help_text="Wall-clock time in the cluster's windows timezone.")
    minutes = models.PositiveIntegerField(
        "duration (minutes)", validators=[MinValueValidator(1), MaxValueValidator(maintenance_windows.LONGEST)],
        help_text="May run over midnight (e.g. 23:00 for 180 minutes ends at 02:00 the next day).")

    class Meta:
        ordering = ["cluster", "weekday", "start"]

    def __str__(self):
        return str(self.as_window())

    def as_window(self) -> maintenance_windows.Window:
        return maintenance_windows.Window(self.weekday, self.start, self.minutes)
