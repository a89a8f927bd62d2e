"""The rollout page's approval and maintenance-window forms: "Approve",
"Reject" (with a reason) for a rollout awaiting approval, and "Start now
(override window)" (with a reason) for one waiting for its window. Each is a
POST to its own URL, acting through images/rollouts/approval.py and
windows.py, which check the role and approver != requester on the server;
then back to the rollout's page with what happened.

The forms sit outside the page's live fragment (re-fetched every 2 s), so a
reason being typed is not wiped; a stale form gets a clear refusal."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from images.models.rollout import Rollout, RolloutStatus
from images.rollouts import approval, windows


def urls(modeladmin) -> list:
    view = modeladmin.admin_site.admin_view
    return [
        path("<uuid:object_id>/approval/", view(lambda request, object_id: decide_view(modeladmin, request, object_id)),
             name="images_rollout_approval"),
        path("<uuid:object_id>/window-override/",
             view(lambda request, object_id: override_view(modeladmin, request, object_id)),
             name="images_rollout_window_override"),
    ]


def context(request, rollout) -> dict:
    may_activate = request.user.has_perm(approval.ROLE_PERMISSION)
    awaiting = rollout.status == RolloutStatus.AWAITING_APPROVAL
    waiting = rollout.status == RolloutStatus.WAITING_FOR_WINDOW
    return {
        "governance": {
            "awaiting_approval": awaiting,
            "is_requester": awaiting and approval.is_requester(rollout, request.user),
            "can_decide": awaiting and may_activate,
            "can_approve": awaiting and may_activate and not approval.is_requester(rollout, request.user),
            "approval_url": reverse("admin:images_rollout_approval", args=[rollout.pk]),
            "waiting_for_window": waiting,
            "window_note": windows.waiting_note(rollout.cluster) if waiting else "",
            "can_override": waiting and may_activate,
            "override_url": reverse("admin:images_rollout_window_override", args=[rollout.pk]),
        },
        "rollout_events": list(rollout.events.order_by("at", "id")),
    }


def _rollout(modeladmin, request, object_id):
    if request.method != "POST":
        return None
    rollout = get_object_or_404(Rollout.objects.select_related("cluster"), pk=object_id)
    if not modeladmin.has_view_permission(request, rollout):
        raise PermissionDenied
    return rollout


def decide_view(modeladmin, request, object_id):
    rollout = _rollout(modeladmin, request, object_id)
    if rollout is None:
        return HttpResponseNotAllowed(["POST"])
    decision = request.POST.get("decision")
    try:
        if decision == "approve":
            messages.success(request, approval.approve(rollout, request.user))
        elif decision == "reject":
            messages.success(request, approval.reject(rollout, request.user, request.POST.get("reason", "")))
        else:
            raise Http404("unknown decision")
    except approval.ApprovalRefused as error:
        messages.error(request, str(error))
    return redirect("admin:images_rollout_change", rollout.pk)


def override_view(modeladmin, request, object_id):
    rollout = _rollout(modeladmin, request, object_id)
    if rollout is None:
        return HttpResponseNotAllowed(["POST"])
    try:
        messages.success(request, windows.override(rollout, request.user, request.POST.get("reason", "")))
    except windows.WindowRefused as error:
        messages.error(request, str(error))
    return redirect("admin:images_rollout_change", rollout.pk)
