"""The two-step "Roll out…" / "Roll back…" / "Undo…" actions: a plan page with
the strategy form (no side effects), then the POST that starts it."""
from collections import Counter

from django.contrib import messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from images.rollouts import plan as planning
from images.rollouts import start
from images.rollouts.forms import RolloutForm
from nodes.models.cluster import KatoBehaviour


def confirm_and_start(modeladmin, request, *, cluster, target_image, image_size, action, title, starter, selected_pk):
    """starter(**strategy) starts it; called only on the confirming POST with a valid form."""
    form = RolloutForm(request.POST if request.POST.get("post") == "yes" else None)
    if form.is_bound and form.is_valid():
        try:
            rollout = starter(user=request.user, **form.cleaned_data)
        except start.RolloutRefused as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Started: {rollout}.")
            return HttpResponseRedirect(reverse("admin:images_rollout_change", args=[rollout.pk]))
    strategy = form.cleaned_data if form.is_bound and form.is_valid() else {
        "canaries": form["canaries"].value() or 1, "max_in_flight": form["max_in_flight"].value() or "1"}
    try:
        plan = planning.make_plan(cluster, target_image, canaries=int(strategy["canaries"]),
                                  max_in_flight_value=str(strategy["max_in_flight"]), image_size=image_size)
    except Exception:  # noqa: BLE001 - an invalid strategy is shown as a form error
        plan = planning.make_plan(cluster, target_image, canaries=1, max_in_flight_value="1", image_size=image_size)
    current = Counter(n.desired_image for n in cluster.nodes.all() if n.desired_image).most_common(1)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "opts": modeladmin.model._meta, "media": modeladmin.media + form.media,
        "cluster": cluster, "target_image": target_image, "current_image": current[0][0] if current else "unknown",
        "plan": plan, "form": form, "action": action, "selected_pk": selected_pk,
        "reloads": cluster.kato_behaviour != KatoBehaviour.RESTART_NEEDED,
        "behaviour": cluster.get_kato_behaviour_display(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/images/rollout_confirmation.html", context)
