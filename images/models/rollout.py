"""A rollout: one target image to every enabled DEA of a cluster, as rows.

The Rollout row is the source of truth; RQ only carries the per-node work
(images/rollouts/). Its id is the audit correlation id of every fence
restart it causes."""
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from images.rollouts.plan import MaxInFlight


class RolloutStatus(models.TextChoices):
    # Governance (approval.py, windows.py): nothing has run yet, but the
    # rollout holds its cluster's one in-progress slot while it waits.
    AWAITING_APPROVAL = "awaiting_approval", "awaiting approval"
    WAITING_FOR_WINDOW = "waiting_for_window", "waiting for its maintenance window"
    PLANNED = "planned", "planned"
    DISTRIBUTING = "distributing", "distributing"
    ACTIVATING = "activating", "activating"
    # The canaries succeeded and the strategy asked for a manual gate: nothing
    # starts until someone presses Continue or Roll back on the rollout's page.
    AWAITING_GATE = "awaiting_gate", "awaiting gate (Continue or Roll back)"
    ROLLING_BACK = "rolling_back", "rolling back"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    ROLLED_BACK = "rolled_back", "rolled back"
    CANCELLED = "cancelled", "cancelled"
    ERRORED = "errored", "errored"


# Not started yet: no step exists beyond the planned pulls, the engine decides nothing.
NOT_STARTED = (RolloutStatus.AWAITING_APPROVAL, RolloutStatus.WAITING_FOR_WINDOW)
UNFINISHED = (*NOT_STARTED, RolloutStatus.PLANNED, RolloutStatus.DISTRIBUTING, RolloutStatus.ACTIVATING,
              RolloutStatus.ROLLING_BACK, RolloutStatus.AWAITING_GATE)


class GateDecision(models.TextChoices):
    CONTINUE = "continue", "continue"
    ROLL_BACK = "rollback", "roll back"


class RolloutKind(models.TextChoices):
    ROLLOUT = "rollout", "rollout"
    ROLLBACK = "rollback", "rollback"


class Rollout(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.PROTECT, related_name="rollouts")
    target = models.ForeignKey("images.ImageVersion", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="rollouts", help_text="Empty when rolling back to an image we did not build.")
    target_image = models.CharField(max_length=512, help_text="The reference set in the cluster config.")
    target_pull = models.CharField(max_length=512, help_text="What nodes pull: by digest when it is known.")
    previous_image = models.CharField(max_length=512, blank=True, help_text="Read from the cluster config when it started.")
    kind = models.CharField(max_length=8, choices=RolloutKind.choices, default=RolloutKind.ROLLOUT)
    undoes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_username = models.CharField(max_length=150)
    reason = models.TextField()

    canaries = models.PositiveIntegerField(default=1)
    max_in_flight = models.CharField(max_length=8, default="1", help_text="A number of nodes, or a percentage like 25%.")
    failure_threshold = models.PositiveIntegerField(default=0, help_text="Failed nodes tolerated before it stops.")
    health_wait = models.PositiveIntegerField(default=5, validators=[MinValueValidator(0)],
                                              help_text="Seconds fence must stay RUNNING on the new image.")
    auto_rollback = models.BooleanField(default=True)
    distribute_only = models.BooleanField(default=False, help_text="Pull on every node, then stop: activate later.")
    manual_gate = models.BooleanField(default=False, help_text="After the canaries, wait for Continue or Roll back.")

    status = models.CharField(max_length=24, choices=RolloutStatus.choices, default=RolloutStatus.PLANNED, db_index=True)
    status_reason = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # The operator's choice when cancelling after the config changed: stop
    # here (nodes stay where they are, the page says where) or roll back.
    cancel_rolls_back = models.BooleanField(default=False)
    # Paused: the steps in flight finish and no further one starts until it
    # is resumed (a rollback, once begun, is never held). Who and when: RolloutEvent.
    paused = models.BooleanField(default=False)
    # What was pressed at the manual gate; the engine acts on it at its next decision.
    gate_decision = models.CharField(max_length=8, blank=True, choices=GateDecision.choices)
    decisions = models.TextField(blank=True, help_text="What the rollout decided, one line each, as it went.")
    # The DEAs its plan left out (disabled, in maintenance, untrusted,
    # unreachable), as planned when it was requested: the cluster config is
    # cluster-wide, so they are told apart from the nodes it switched to the end.
    left_out = models.TextField(blank=True, help_text="DEA nodes the plan left out, each with why.")
    # Two-person approval (protected clusters, approval.py): the deadline is
    # fixed when asked, so changing the cluster's expiry later does not move it.
    approval_expires_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The newest rollouts: the audit's rollout filter (all clusters) and
        # the home page (per cluster), among thousands after a few years.
        indexes = [
            models.Index(fields=["-created_at"], name="rollout_created"),
            models.Index(fields=["cluster", "-created_at"], name="rollout_cluster_created"),
        ]
        constraints = [
            # Two rollouts racing on one cluster would fight over its config.
            models.UniqueConstraint(fields=["cluster"], condition=Q(status__in=UNFINISHED),
                                    name="one_unfinished_rollout_per_cluster",
                                    violation_error_message="This cluster already has a rollout in progress."),
        ]
        permissions = [
            ("distribute_rollout", "Can start distributing an image"),
            ("activate_rollout", "Can activate, roll back, undo and cancel rollouts"),
        ]

    def __str__(self):
        return f"{self.kind} of {self.target_image} on {self.cluster}"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED

    @property
    def in_flight(self):
        """max_in_flight as the typed value: start() stored it valid."""
        return MaxInFlight.parse(self.max_in_flight)


class Phase(models.TextChoices):
    PULL = "pull", "pull"
    SMOKE = "smoke", "smoke test"
    CONFIG = "config", "config set"
    RESTART = "restart", "restart + verify"
    OBSERVE = "observe", "verify reload"
    REVERT_CONFIG = "revert_config", "config set back"
    REVERT = "revert", "restart on previous image"


class StepStatus(models.TextChoices):
    PENDING = "pending", "pending"
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    ERRORED = "errored", "errored"
    SKIPPED = "skipped", "skipped"


IN_FLIGHT = (StepStatus.QUEUED, StepStatus.RUNNING)
BAD = (StepStatus.FAILED, StepStatus.ERRORED)
DONE = (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.ERRORED, StepStatus.SKIPPED)


class RolloutStep(models.Model):
    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="steps")
    node = models.ForeignKey("nodes.Node", on_delete=models.PROTECT, related_name="+")
    phase = models.CharField(max_length=16, choices=Phase.choices)
    batch = models.PositiveIntegerField(default=0, help_text="0: canaries; then batches in order.")
    image = models.CharField(max_length=512, help_text="The image this step moves the node to.")
    status = models.CharField(max_length=12, choices=StepStatus.choices, default=StepStatus.PENDING, db_index=True)
    attempt = models.PositiveIntegerField(default=0)
    job_id = models.CharField(max_length=64, blank=True)
    fence_pid_before = models.PositiveIntegerField(null=True, blank=True, help_text="From the node's supervisord.")
    # When this step saw its new fence (the console's clock): a step still
    # running without it will read the config after, for the others to share
    # (images/rollouts/config_read.py).
    fence_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    output = models.TextField(blank=True)

    class Meta:
        ordering = ["rollout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rollout", "node", "phase"], name="one_step_per_node_and_phase"),
        ]

    def __str__(self):
        return f"{self.phase} on {self.node.address}: {self.status}"
