from django.db import models

from images.dockerfile import RUN_STEP_MAX, validate_run_step
from images.models.image_version import ImmutableVersion
from images.models.status import EDITABLE_STATES


class RunStep(models.Model):
    """One RUN line of the Dockerfile, in position order."""
    version = models.ForeignKey("images.ImageVersion", on_delete=models.CASCADE, related_name="run_steps")
    position = models.PositiveSmallIntegerField(default=0, help_text="Steps run in this order (lowest first).")
    command = models.CharField(max_length=RUN_STEP_MAX, validators=[validate_run_step],
                               help_text="One shell command line, run in the build container (no network).")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"RUN {self.command}"

    def _check_editable(self):
        from images.models.image_version import ImageVersion
        stored = ImageVersion.objects.filter(pk=self.version_id).values_list("status", "image_id").first()
        if stored and (stored[0] not in EDITABLE_STATES or stored[1]):
            raise ImmutableVersion(f"{self.version} is {stored[0]}: its RUN steps can no longer change.")

    def save(self, *args, **kwargs):
        self._check_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_editable()
        return super().delete(*args, **kwargs)
