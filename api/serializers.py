"""What the API answers (read-only views of the rows) and what it accepts.
Accepted values are checked again by the console's own forms
(images/drafts.py, RolloutForm), so a value is refused with the same words
whichever way it comes in; the types here make the OpenAPI schema."""
from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.settings import api_settings

from images.models import ImageVersion, Promotion, Rollout, RolloutStep
from nodes.models import Cluster, FenceRestart, Node


class ClusterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cluster
        fields = ["id", "name", "core_address", "api_endpoint", "registry", "kato_behaviour", "config_component",
                  "config_key", "desired_image", "desired_image_since"]


class NodeSerializer(serializers.ModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    trusted = serializers.BooleanField(source="is_trusted", read_only=True)
    drift_display = serializers.CharField(source="get_drift_display", read_only=True)

    class Meta:
        model = Node
        fields = ["id", "cluster", "address", "roles", "enabled", "in_maintenance", "trusted",
                  "host_key_fingerprint", "reachable", "last_seen", "desired_image", "fence_state", "fence_pid",
                  "fence_started_at", "facts_refreshed_at", "facts_verified_at", "facts_verified_by_rollout",
                  "desired_image_set_at", "desired_image_set_by_rollout", "last_error", "drift", "drift_display"]


class ImageVersionSerializer(serializers.ModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)
    run = serializers.SlugRelatedField(source="run_steps", slug_field="command", many=True, read_only=True)

    class Meta:
        model = ImageVersion
        fields = ["id", "cluster", "name", "repository", "tag", "status", "status_reason", "from_reference", "parent",
                  "run", "cmd", "dockerfile", "release_notes", "local", "engine_reference", "image_id", "size",
                  "registry_reference", "manifest_digest", "created_by_username", "created_at", "built_at",
                  "pushed_at"]


class Strict(serializers.Serializer):
    """What a caller sends: a field it does not declare is refused, not
    ignored (a misspelt distribute_only or roll_back, ignored, would do the
    opposite of what was asked)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [name for name in data if name not in self.fields]
            if unknown:
                raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [
                    f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                    f"(the fields are: {', '.join(self.fields)})."]})
        return super().to_internal_value(data)


class NewDraftSerializer(Strict):
    cluster = serializers.CharField(help_text="The cluster's name.")
    repository = serializers.CharField(help_text="e.g. exampleco/newimg")
    tag = serializers.CharField(help_text="Built once, never rebuilt.")
    from_reference = serializers.CharField(required=False, allow_blank=True, default="",
                                           help_text="The image to build FROM (or give parent).")
    parent = serializers.IntegerField(required=False, allow_null=True, default=None,
                                      help_text="The id of a built version to build FROM.")
    run = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False, default=list,
                                help_text="RUN lines, in order.")
    cmd = serializers.ListField(child=serializers.CharField(), required=False, default=None, allow_null=True,
                                allow_empty=False, help_text='CMD as a list (default ["start.sh"]).')
    notes = serializers.CharField(required=False, allow_blank=True, default="", help_text="Release notes.")


class LogLineSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()


class StrategySerializer(Strict):
    """The plan page's strategy form (RolloutForm), with its defaults."""
    reason = serializers.CharField(allow_blank=True, help_text="Why: kept with every fence restart in the audit.")
    canaries = serializers.IntegerField(default=1)
    max_in_flight = serializers.CharField(default="1", help_text="A number of nodes, or a percentage like 25%.")
    failure_threshold = serializers.IntegerField(default=0)
    health_wait = serializers.IntegerField(default=5, help_text="Seconds fence must stay RUNNING on the new image.")
    auto_rollback = serializers.BooleanField(default=True)
    manual_gate = serializers.BooleanField(default=False, help_text="After the canaries, wait for the gate "
                                                                    "(continue or rollback): 3.0 with canaries only.")


class StartSerializer(StrategySerializer):
    version = serializers.IntegerField(help_text="The id of a pushed (or, with no registry, built) image version.")
    distribute_only = serializers.BooleanField(default=False, help_text="Pull on every node, do not activate.")


class CancelSerializer(Strict):
    roll_back = serializers.BooleanField(
        default=False, help_text="Stop and roll back (set the config back, restart the nodes already switched); "
                                 "false: stop here.")


class StepSerializer(serializers.ModelSerializer):
    node = serializers.SlugRelatedField(slug_field="address", read_only=True)

    class Meta:
        model = RolloutStep
        fields = ["id", "node", "phase", "batch", "image", "status", "attempt", "started_at", "finished_at", "output"]


class RolloutSerializer(serializers.ModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    requested_by = serializers.CharField(source="requested_by_username", read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)

    class Meta:
        model = Rollout
        fields = ["id", "cluster", "kind", "status", "status_reason", "finished", "target", "target_image",
                  "target_pull", "previous_image", "undoes", "requested_by", "reason", "canaries", "max_in_flight",
                  "failure_threshold", "health_wait", "auto_rollback", "distribute_only", "manual_gate",
                  "cancel_requested", "paused", "gate_decision", "approval_expires_at", "approved_by_username",
                  "created_at", "started_at", "finished_at"]


class RolloutDetailSerializer(RolloutSerializer):
    decisions = serializers.SerializerMethodField(help_text="What the rollout decided, in order.")
    steps = StepSerializer(many=True, read_only=True)

    class Meta(RolloutSerializer.Meta):
        fields = [*RolloutSerializer.Meta.fields, "decisions", "steps"]

    def get_decisions(self, rollout) -> list[str]:
        return [line for line in rollout.decisions.splitlines() if line.strip()]


class RolloutAnswerSerializer(serializers.Serializer):
    """A cancel's answer: what the console says, and the rollout."""
    detail = serializers.CharField()
    rollout = RolloutSerializer()


class FenceRestartSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by_username", read_only=True)

    class Meta:
        model = FenceRestart
        fields = ["id", "cluster_name", "node_address", "started_at", "finished_at", "requested_by", "image_before",
                  "image_after", "outcome", "exit_code", "output_excerpt", "correlation_id", "reason"]


class PromoteSerializer(Strict):
    cluster = serializers.CharField(help_text="The target cluster's name.")


class PromotionSerializer(serializers.ModelSerializer):
    """One promotion (images/models/promotion.py): `target` is the id of the
    version on the target cluster, set once its registry serves `digest`."""
    source_name = serializers.CharField(source="source.__str__", read_only=True)
    source_cluster = serializers.SlugRelatedField(source="source.cluster", slug_field="name", read_only=True)
    target_cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    requested_by = serializers.CharField(source="requested_by_username", read_only=True)
    finished = serializers.SerializerMethodField(help_text="Succeeded, failed or errored: it will not change.")

    class Meta:
        model = Promotion
        fields = ["id", "status", "status_reason", "finished", "digest", "source", "source_name", "source_cluster",
                  "source_reference", "source_rollout", "target_cluster", "target_reference", "target",
                  "requested_by", "created_at", "finished_at"]

    def get_finished(self, promotion) -> bool:
        return not promotion.is_running


class PromotionDetailSerializer(PromotionSerializer):
    log = serializers.SerializerMethodField(help_text="The copy job's log, line by line (poll while it runs).")

    class Meta(PromotionSerializer.Meta):
        fields = [*PromotionSerializer.Meta.fields, "log"]

    def get_log(self, promotion) -> list[str]:
        return promotion.log.splitlines()


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why nothing was done, in the console's words.")
