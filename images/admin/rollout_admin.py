from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from images.admin import rollout_governance, rollout_interventions, rollout_progress
from images.admin.rollout_confirmation import confirm_and_start
from images.models.rollout import Phase, Rollout, RolloutKind, RolloutStatus, StepStatus
from images.rollouts import cancel as cancelling
from images.rollouts import start
from stackato_dash.admin_confirmation import PlanRow, choice, confirmation_page, confirmed
from stackato_dash.read_only_admin import ReadOnlyAdmin


@admin.register(Rollout)
class RolloutAdmin(ReadOnlyAdmin):
    """Rollouts are started from an image version and changed only by their jobs."""
    list_display = ["created_at", "cluster", "kind", "target_image", "status", "requested_by_username", "reason"]
    list_filter = ["status", "kind", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["target_image", "previous_image", "reason", "requested_by_username"]
    date_hierarchy = "created_at"
    actions = ["cancel", "undo", *rollout_interventions.ACTIONS]
    # What the rollout's jobs change (status, times, decisions...) is in the live
    # part of the page (_progress.html), never here where it would go stale.
    fields = ["id", "cluster", "kind", "target", "target_image", "target_pull", "undoes", "requested_by_username",
              "reason", "canaries", "max_in_flight", "failure_threshold", "health_wait", "auto_rollback", "manual_gate", "created_at"]
    readonly_fields = fields

    def has_activate_permission(self, request):
        return request.user.has_perm("images.activate_rollout")

    def get_urls(self):
        fragment = self.admin_site.admin_view(self.progress_view)
        return [path("<uuid:object_id>/progress/", fragment, name="images_rollout_progress"),
                *rollout_governance.urls(self), *super().get_urls()]

    def _progress_context(self, request, rollout):
        return {"rollout": rollout, **rollout_progress.progress(rollout), **rollout_governance.context(request, rollout),
                "can_cancel": not rollout.is_finished and self.has_activate_permission(request),
                "can_undo": self.has_activate_permission(request) and undo_offered(rollout),
                "intervention_buttons": rollout_interventions.buttons(rollout, self.has_activate_permission(request)),
                "progress_url": reverse("admin:images_rollout_progress", args=[rollout.pk]),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rollout = self.get_object(request, object_id)
        if rollout is not None and self.has_view_permission(request, rollout):
            extra_context = {**(extra_context or {}), **self._progress_context(request, rollout)}
        return super().change_view(request, object_id, form_url, extra_context)

    def progress_view(self, request, object_id):
        """The live part of the rollout page, as HTML, for its poller: a GET
        that only reads."""
        if request.method != "GET":
            raise Http404
        rollout = get_object_or_404(Rollout, pk=object_id)
        if not self.has_view_permission(request, rollout):
            raise PermissionDenied
        return TemplateResponse(request, "admin/images/rollout/_progress.html",
                                self._progress_context(request, rollout))

    @admin.action(description="Cancel… (stop here, or stop and roll back)", permissions=["activate"])
    def cancel(self, request, queryset):
        """Two steps, through the shared confirmation page: what each choice
        does for each rollout, then the POST with post=yes that requests it.
        No worker check: the request is recorded and acted on by the next step."""
        rollouts = list(queryset.select_related("cluster"))
        if not confirmed(request):
            rows = [PlanRow(str(r), "" if cancelling.refusal(r) else cancelling.effect(r), cancelling.refusal(r))
                    for r in rollouts]
            return confirmation_page(self, request, queryset, title="Cancel rollouts", button="Yes, cancel",
                                     intro="Cancelling lets the node steps already running finish and starts no "
                                           "further one. A config revert is never skipped.",
                                     rows=rows, needs_worker=False, choices=cancelling.CHOICES)
        roll_back = choice(request) == cancelling.ROLL_BACK
        for rollout in rollouts:
            try:
                messages.success(request, cancelling.request(rollout, roll_back=roll_back, user=request.user))
            except cancelling.CancelRefused as error:
                messages.warning(request, str(error))
        if len(rollouts) == 1:  # pressed on the rollout's page: back to it, to watch the cancel happen
            return redirect("admin:images_rollout_change", rollouts[0].pk)
        return None

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


def undo_offered(rollout) -> bool:
    """The page's Undo… button: where start.undo would undo something. It
    accepts any finished rollout that read the image it replaced, but one that
    rolled back, stopped before the config was set, or was undone already
    left nothing to undo."""
    if not (rollout.is_finished and rollout.previous_image):
        return False
    if Rollout.objects.filter(undoes=rollout, status=RolloutStatus.SUCCEEDED).exists():
        return False
    config_steps = rollout.steps.filter(status=StepStatus.SUCCEEDED, phase__in=(Phase.CONFIG, Phase.REVERT_CONFIG))
    return set(config_steps.values_list("phase", flat=True)) == {Phase.CONFIG}


def rollout_actions_for_versions():
    """The ImageVersion admin's "Roll out…" and "Roll back to this version…" actions."""

    @admin.action(description="Roll out…", permissions=["activate"])
    def roll_out(modeladmin, request, queryset):
        return _version_action(modeladmin, request, queryset, "roll_out", RolloutKind.ROLLOUT)

    @admin.action(description="Roll back to this version…", permissions=["activate"])
    def roll_back_to(modeladmin, request, queryset):
        return _version_action(modeladmin, request, queryset, "roll_back_to", RolloutKind.ROLLBACK)

    @admin.action(description="Distribute only… (pull on every node, do not activate)", permissions=["distribute"])
    def distribute_only(modeladmin, request, queryset):
        return _version_action(modeladmin, request, queryset, "distribute_only", RolloutKind.ROLLOUT, distribute_only=True)

    return [roll_out, roll_back_to, distribute_only]


def roll_out_view(modeladmin, request, object_id: int):
    """"Roll out…" as a link (the home page's cluster row): the same plan page
    as the action, whose form posts back here to start."""
    if not modeladmin.has_activate_permission(request):
        raise PermissionDenied
    version = get_object_or_404(modeladmin.model, pk=object_id)
    response = _version_action(modeladmin, request, modeladmin.model.objects.filter(pk=version.pk), "roll_out",
                               RolloutKind.ROLLOUT)
    return response or redirect("admin:images_imageversion_change", version.pk)


def _version_action(modeladmin, request, queryset, action, kind, distribute_only=False):
    if queryset.count() != 1:
        messages.error(request, "Select exactly one image version.")
        return None
    version = queryset.select_related("cluster").get()
    if kind == RolloutKind.ROLLBACK and not version.rollouts.filter(status="succeeded").exists():
        messages.error(request, f"{version} was never active on {version.cluster}: roll it out instead.")
        return None
    verb = "Distribute" if distribute_only else "Roll out" if kind == RolloutKind.ROLLOUT else "Roll back to"
    return confirm_and_start(
        modeladmin, request, cluster=version.cluster, target_image=version.registry_reference or version.engine_reference,
        image_size=version.size, action=action, title=f"{verb} {version}", selected_pk=version.pk,
        starter=lambda **strategy: start.rollout_version(version, kind=kind, distribute_only=distribute_only, **strategy))
