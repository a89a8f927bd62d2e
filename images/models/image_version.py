from django.conf import settings
from django.db import models

from images.dockerfile import default_cmd, render, validate_cmd
from images.models.status import EDITABLE_STATES, RUNNING_STATES, Status
from images.references import REFERENCE_MAX, validate_reference, validate_repository, validate_tag

# What makes the image: frozen once anything has been built from it.
DEFINITION_FIELDS = ("cluster", "repository", "tag", "parent", "from_reference", "cmd")


class ImmutableVersion(Exception):
    """An attempt to change what a built (or building) version is made of."""


class ImageVersion(models.Model):
    """One image the operators build from the cluster's current image: the
    seed procedure's Dockerfile, build and push, as a row."""
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.PROTECT, related_name="image_versions")
    repository = models.CharField(max_length=255, validators=[validate_repository],
                                  help_text="e.g. exampleco/newimg; the cluster registry is prefixed when pushing.")
    tag = models.CharField(max_length=128, validators=[validate_tag],
                           help_text="e.g. 1.0.1; built once, never rebuilt.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
                               help_text="The earlier version this one is FROM, when it is one of ours.")
    from_reference = models.CharField(
        "FROM", max_length=REFERENCE_MAX, blank=True, validators=[validate_reference],
        help_text="The image this one starts from, e.g. what `kato config get fence docker/image` names. "
                  "Empty: the parent version's reference.")
    cmd = models.JSONField("CMD", default=default_cmd, validators=[validate_cmd],
                           help_text='JSON list, as in the seed: ["start.sh"].')
    dockerfile = models.TextField(blank=True, editable=False, help_text="Rendered from FROM, the RUN steps and CMD.")
    release_notes = models.TextField(blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False,
                              db_index=True)
    status_reason = models.TextField(blank=True, editable=False, help_text="Why it failed or errored.")
    local = models.BooleanField(default=False, editable=False,
                                help_text="Built but in no registry (the cluster has none): distribution streams "
                                          "it from the build engine to the nodes.")
    engine_reference = models.CharField(max_length=REFERENCE_MAX, blank=True, editable=False,
                                        help_text="The name the build engine tagged it with.")
    image_id = models.CharField(max_length=128, blank=True, editable=False)
    size = models.BigIntegerField(null=True, blank=True, editable=False, help_text="bytes")
    registry_reference = models.CharField(max_length=REFERENCE_MAX, blank=True, editable=False)
    manifest_digest = models.CharField(max_length=100, blank=True, editable=False,
                                       help_text="Checked against the registry's Docker-Content-Digest.")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_by_username = models.CharField(max_length=150, blank=True, editable=False,
                                           help_text="Copied: a deleted user's versions keep their name.")
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True, editable=False)
    pushed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "repository", "tag"], name="image_version_tag_unique_in_cluster",
                violation_error_message="This cluster already has a version with this repository and tag. "
                                        "Tags are immutable: choose a new tag."),
        ]
        permissions = [
            ("build_imageversion", "Can build image versions"),
            ("push_imageversion", "Can push image versions"),
        ]

    def __str__(self):
        return f"{self.repository}:{self.tag}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES and not self.image_id

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATES

    @property
    def can_build(self) -> bool:
        return self.is_editable

    @property
    def can_push(self) -> bool:
        return bool(self.image_id) and not self.manifest_digest and self.status not in RUNNING_STATES

    @property
    def pull_reference(self) -> str:
        """How nodes and child builds name this image: by digest once pushed."""
        if self.registry_reference and self.manifest_digest:
            return f"{self.registry_reference.rsplit(':', 1)[0]}@{self.manifest_digest}"
        return self.engine_reference or str(self)

    def render_dockerfile(self) -> str:
        steps = [step.command for step in self.run_steps.all()] if self.pk else []
        return render(self.from_reference, steps, self.cmd)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not self._state.adding and (update_fields is None or set(update_fields) & set(DEFINITION_FIELDS)):
            self._refuse_definition_change()
        super().save(*args, **kwargs)

    def _refuse_definition_change(self):
        names = [self._meta.get_field(name).attname for name in DEFINITION_FIELDS]
        stored = type(self).objects.filter(pk=self.pk).values(*names, "status", "image_id").first()
        if stored is None or (stored["status"] in EDITABLE_STATES and not stored["image_id"]):
            return
        changed = [name for name in names if stored[name] != getattr(self, name)]
        if changed:
            raise ImmutableVersion(f"{self} is {stored['status']}: {', '.join(changed)} can no longer change. "
                                   "Create a new version with a new tag instead.")
