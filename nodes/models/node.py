from django.db import models

from nodes.validators import port_validators, validate_roles, validate_ssh_user


class Drift(models.TextChoices):
    """How a node differs from what the cluster config asks (nodes/drift.py)."""
    IN_SYNC = "in_sync", "in sync"
    NOT_RESTARTED = "not_restarted", "config changed, fence not restarted"
    IMAGE_MISSING = "image_missing", "desired image missing on node"
    IMAGE_DIFFERS = "image_differs", "desired name holds another image than was rolled out"
    FENCE_DOWN = "fence_down", "fence not RUNNING"
    UNREACHABLE = "unreachable", "unreachable"
    HOST_KEY_UNKNOWN = "host_key_unknown", "host key unknown"
    HOST_KEY_CHANGED = "host_key_changed", "host key changed"
    UNKNOWN = "unknown", "not refreshed yet"


class Node(models.Model):
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.PROTECT, related_name="nodes")
    address = models.GenericIPAddressField(protocol="IPv4", help_text="The node's private IPv4 address: its identity in Stackato.")
    ssh_port = models.PositiveIntegerField("SSH port", default=22, validators=port_validators)
    ssh_user = models.CharField("SSH user", max_length=32, default="root", validators=[validate_ssh_user])
    roles = models.JSONField(default=list, blank=True, validators=[validate_roles], help_text="As `kato node list` reports them.")
    enabled = models.BooleanField(default=True, help_text="Disabled nodes are left out of rollouts.")
    in_maintenance = models.BooleanField(default=False, help_text="Nodes in maintenance are left out of rollouts.")

    # The pinned host key: set only by the "Trust host key" action, after an
    # operator compared the fingerprint (never trusted on first use).
    host_key_type = models.CharField(max_length=64, blank=True, editable=False)
    host_key = models.TextField(blank=True, editable=False, help_text="base64, as in known_hosts")
    host_key_fingerprint = models.CharField(max_length=128, blank=True, editable=False)
    host_key_trusted_at = models.DateTimeField(null=True, blank=True, editable=False)
    host_key_trusted_by = models.CharField(max_length=150, blank=True, editable=False)
    # Last time the node presented another key than the pinned one.
    host_key_mismatch_fingerprint = models.CharField(max_length=128, blank=True, editable=False)
    host_key_mismatch_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Facts, written by the refresh job.
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    reachable = models.BooleanField(null=True, editable=False)
    desired_image = models.CharField(max_length=512, blank=True, editable=False, help_text="What the cluster config named at the last refresh.")
    # fence as the node's supervisord reports it (nodes/supervisor.py); the
    # state falls back to `kato process list` when supervisord cannot be asked.
    fence_state = models.CharField(max_length=16, blank=True, editable=False)
    fence_pid = models.PositiveIntegerField(null=True, blank=True, editable=False)
    fence_started_at = models.DateTimeField(null=True, blank=True, editable=False,
                                            help_text="On the console's clock (supervisord's start time by its age).")
    docker_version = models.CharField(max_length=64, blank=True, editable=False)
    images = models.JSONField(default=list, blank=True, editable=False, help_text="[{ref, id, digest}] on the node's engine")
    registry_config = models.JSONField(null=True, blank=True, editable=False,
                                       help_text="`docker info` RegistryConfig at the last refresh: which registries "
                                                 "its engine may pull from over plain HTTP (images/registry_trust.py).")
    facts_refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A rollout's verified restart writes what it verified (fence, the image
    # its engine holds, the config) over the refresh's facts without being a
    # refresh (images/rollouts/verified_facts.py); the next refresh clears these.
    facts_verified_at = models.DateTimeField(null=True, blank=True, editable=False,
                                             help_text="When a rollout step last verified fence, image and config here.")
    # The rollout's id, not a key: nodes' models do not depend on images'.
    facts_verified_by_rollout = models.UUIDField(null=True, blank=True, editable=False,
                                                 help_text="The rollout whose step verified them.")
    # A rollout's config step names a new image for the nodes it does not work
    # on too (left out, not a DEA): it writes desired_image and drift here
    # without reading the node (images/rollouts/config_facts.py). Cleared when
    # the node's config is read again (a refresh, a verified restart).
    desired_image_set_at = models.DateTimeField(null=True, blank=True, editable=False,
                                                help_text="When a rollout's config step set the desired image here.")
    desired_image_set_by_rollout = models.UUIDField(null=True, blank=True, editable=False,
                                                    help_text="The rollout whose config step set it.")
    last_error = models.TextField(blank=True, editable=False)
    drift = models.CharField(max_length=32, choices=Drift.choices, default=Drift.HOST_KEY_UNKNOWN, editable=False, db_index=True)

    class Meta:
        ordering = ["cluster__name", "address"]
        constraints = [
            # A machine (its address: Stackato's name for a node) belongs to one
            # cluster, or two clusters' rollouts could restart it at once. The
            # pages and the importer say which cluster holds it first
            # (nodes/machine_claims.py), so a form meets this message only for
            # the same cluster; the constraint guards two imports at once.
            models.UniqueConstraint(fields=["address"], name="node_address_unique",
                                    violation_error_message="This cluster already has a node with this address."),
        ]
        permissions = [
            ("trust_host_key", "Can trust a node's SSH host key"),
            ("refresh_facts", "Can refresh node facts"),
            ("import_nodes", "Can import nodes from kato"),
        ]

    def __str__(self):
        return f"{self.address} ({self.cluster})"

    @property
    def is_dea(self) -> bool:
        return "dea" in self.roles

    @property
    def is_trusted(self) -> bool:
        return bool(self.host_key)

    @property
    def image_refs(self) -> set[str]:
        return {image["ref"] for image in self.images}
