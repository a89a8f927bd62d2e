from django.contrib import admin, messages
from django.db import transaction

from images.admin.rollout_confirmation import confirm_and_start
from images.models.rollout import Rollout, RolloutKind, RolloutStep
from images.rollouts import start
from images.rollouts.jobs import enqueue_advance


class RolloutStepInline(admin.TabularInline):
    model = RolloutStep
    fields = ["node", "phase", "batch", "status", "attempt", "image", "started_at", "finished_at", "output"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Rollout)
class RolloutAdmin(admin.ModelAdmin):
    """Rollouts are started from an image version and changed only by their jobs."""
    list_display = ["created_at", "cluster", "kind", "target_image", "status", "requested_by_username", "reason"]
    list_filter = ["status", "kind", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["target_image", "previous_image", "reason", "requested_by_username"]
    date_hierarchy = "created_at"
    inlines = [RolloutStepInline]
    actions = ["cancel", "undo"]
    readonly_fields = ["id", "cluster", "target", "target_image", "target_pull", "previous_image", "kind", "undoes",
                       "requested_by_username", "reason", "canaries", "max_in_flight", "failure_threshold",
                       "health_wait", "auto_rollback", "status", "status_reason", "cancel_requested", "created_at",
                       "started_at", "finished_at", "decisions"]
    exclude = ["requested_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_activate_permission(self, request):
        return request.user.has_perm("images.activate_rollout")

    @admin.action(description="Cancel (stops before the next batch)", permissions=["activate"])
    def cancel(self, request, queryset):
        for rollout in queryset:
            if rollout.is_finished:
                messages.warning(request, f"{rollout} has already ended ({rollout.status}).")
                continue
            with transaction.atomic():
                Rollout.objects.filter(pk=rollout.pk).update(cancel_requested=True)
                transaction.on_commit(lambda pk=rollout.pk: enqueue_advance(pk))
            messages.success(request, f"{rollout}: cancel requested; it stops before its next step.")

    @admin.action(description="Undo… (roll back to the image it replaced)", permissions=["activate"])
    def undo(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, "Select exactly one rollout to undo.")
            return None
        rollout = queryset.get()
        return confirm_and_start(
            self, request, cluster=rollout.cluster, target_image=rollout.previous_image or "unknown", image_size=None,
            action="undo", title=f"Undo {rollout}", selected_pk=rollout.pk,
            starter=lambda **strategy: start.undo(rollout, **strategy))


def rollout_actions_for_versions():
    """The ImageVersion admin's "Roll out…" and "Roll back to this version…" actions."""

    @admin.action(description="Roll out…", permissions=["activate"])
    def roll_out(modeladmin, request, queryset):
        return _version_action(modeladmin, request, queryset, "roll_out", RolloutKind.ROLLOUT)

    @admin.action(description="Roll back to this version…", permissions=["activate"])
    def roll_back_to(modeladmin, request, queryset):
        return _version_action(modeladmin, request, queryset, "roll_back_to", RolloutKind.ROLLBACK)

    return [roll_out, roll_back_to]


def _version_action(modeladmin, request, queryset, action, kind):
    if queryset.count() != 1:
        messages.error(request, "Select exactly one image version.")
        return None
    version = queryset.select_related("cluster").get()
    if kind == RolloutKind.ROLLBACK and not version.rollouts.filter(status="succeeded").exists():
        messages.error(request, f"{version} was never active on {version.cluster}: roll it out instead.")
        return None
    verb = "Roll out" if kind == RolloutKind.ROLLOUT else "Roll back to"
    return confirm_and_start(
        modeladmin, request, cluster=version.cluster, target_image=version.registry_reference or version.engine_reference,
        image_size=version.size, action=action, title=f"{verb} {version}", selected_pk=version.pk,
        starter=lambda **strategy: start.rollout_version(version, kind=kind, **strategy))
