from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from nodes import maintenance_windows
from nodes.image_setting import ImageSetting
from nodes.validators import port_validators, validate_config_path, validate_registry_location, validate_ssh_user


class KatoBehaviour(models.TextChoices):
    # How fence picks up a new image (DESIGN.md section 2).
    RESTART_NEEDED = "3.0", "3.0: fence reads docker/image at start (restart needed)"
    RELOADS = "3.0.1", "3.0.1+: fence reloads on every config change"
    IMAGE_LIST = "3.4", "3.4+: docker/images list, fence reloads on change"


class Cluster(models.Model):
    name = models.CharField(max_length=100, unique=True)
    core_address = models.GenericIPAddressField(
        "Core node address", protocol="IPv4", help_text="The primary node's private IPv4 address, as kato shows it.")
    api_endpoint = models.CharField(max_length=255, blank=True, help_text="e.g. api.paas.example.com")
    registry = models.CharField(
        "registry location", max_length=255, blank=True, validators=[validate_registry_location],
        help_text="host:port of the cluster's Docker registry on the Core node; empty for none.")
    kato_behaviour = models.CharField(max_length=8, choices=KatoBehaviour.choices, default=KatoBehaviour.RESTART_NEEDED)
    config_component = models.CharField(max_length=64, default="fence", validators=[validate_config_path])
    config_key = models.CharField(max_length=128, default="docker/image", validators=[validate_config_path])
    ssh_user = models.CharField("default SSH user", max_length=32, default="root", validators=[validate_ssh_user])
    ssh_port = models.PositiveIntegerField("default SSH port", default=22, validators=port_validators)
    # The image the cluster config names, and since when: set by the console
    # when it changes the config, else when a refresh first sees a new value
    # (empty the first time a cluster is read: a change made before is not
    # dated). The history keeps the last values with theirs, so drift can
    # tell which image a fence read when it started (nodes/config_history.py):
    # after a config set back, a fence started before the rollout is in sync.
    desired_image = models.CharField(max_length=512, blank=True, editable=False)
    desired_image_since = models.DateTimeField(null=True, blank=True, editable=False)
    desired_image_history = models.JSONField(default=list, blank=True, editable=False)
    # The last `kato config get` of the image setting sent to verify a fence
    # restart, from when it was sent (images/rollouts/config_read.py): a read
    # begun after a step saw its new fence serves that step too. A NULL value
    # with a time: under way.
    config_read_began = models.DateTimeField(null=True, blank=True, editable=False)
    config_read_value = models.CharField(max_length=512, null=True, blank=True, editable=False)
    # Governance (images/rollouts/approval.py, windows.py). The expiry is a
    # cluster field, not a setting: how long a second release manager may
    # take differs per cluster (staging vs production, their time zones),
    # and operators change it in the console without a redeploy.
    protected = models.BooleanField(
        default=False, help_text="Every rollout, rollback and undo waits for a second Release manager's approval. "
                                  "Lifting it takes two Release managers: each unticks it and saves.")
    approval_expiry_minutes = models.PositiveIntegerField(
        default=240, validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
        help_text="An approval request not answered within this time expires and the rollout ends.")
    # A pending request to lift protection (nodes/protection_lift.py): the
    # first Release manager's untick; protection stays on until a second,
    # different one confirms before the deadline. The name is copied, as on
    # a rollout's request: the requester stays known if the account goes.
    protection_lift_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+")
    protection_lift_requested_by_username = models.CharField(max_length=150, blank=True, editable=False)
    protection_lift_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    protection_lift_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    windows_timezone = models.CharField(
        max_length=64, default="UTC", validators=[maintenance_windows.validate_timezone],
        help_text="IANA timezone of the maintenance windows' times (e.g. Europe/Berlin).")
    # What the last import found, so the console can say why it failed.
    last_import_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_import_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def fence_reloads_on_change(self) -> bool:
        """3.0.1+: every DEA's fence reloads by itself when the config changes
        (all at once: no canary through the config); 3.0: only a fence
        restart picks up a new image."""
        return self.kato_behaviour != KatoBehaviour.RESTART_NEEDED

    @property
    def image_setting(self) -> ImageSetting:
        """Which config key holds fence's image, and whether it is a list
        (3.4+: `docker/images`, the default first)."""
        is_list = self.kato_behaviour == KatoBehaviour.IMAGE_LIST
        key = "docker/images" if is_list and self.config_key == "docker/image" else self.config_key
        return ImageSetting(self.config_component, key, is_list)

    @property
    def core_node(self):
        return self.nodes.filter(address=self.core_address).first()
