"""The two-step "Roll out…" / "Roll back…" / "Undo…" actions: a plan page with
the strategy form (no side effects), then the POST that starts it.

The node order on the page is drawn for the strategy in the form: "Show the
plan" redraws it for what was typed, and Start starts only the plan that was
shown (a strategy changed since is drawn first, and Start asked again)."""
from collections import Counter

from django.contrib import messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from images import registry_trust
from images.rollouts import plan as planning
from images.rollouts import pull_check
from images.rollouts import start
from images.rollouts.forms import RolloutForm

PREVIEW = "_preview"  # the name of the "Show the plan" button


def confirm_and_start(modeladmin, request, *, cluster, target_image, image_size, action, title, starter, selected_pk):
    """starter(**strategy) starts it; called only on the confirming POST with a valid form."""
    posted = request.POST.get("post") == "yes"
    previewing = posted and PREVIEW in request.POST
    form = RolloutForm(request.POST if posted else None, require_reason=not previewing)
    strategy = form.strategy()
    if posted and not previewing and form.is_valid():
        if _shown_plan_is(request, strategy):
            try:
                rollout = starter(user=request.user, **form.cleaned_data)
            except start.RolloutRefused as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"Started: {rollout}.")
                return HttpResponseRedirect(reverse("admin:images_rollout_change", args=[rollout.pk]))
        else:
            messages.warning(request, "The strategy changed since the node order was shown: below is the order it "
                                      "gives. Check it and press Start again.")
    # Every value in `strategy` passed the form's validation, so the plan cannot refuse it.
    plan = None if strategy is None else planning.make_plan(
        cluster, target_image, canaries=strategy[0], max_in_flight=strategy[1], image_size=image_size)
    current = Counter(n.desired_image for n in cluster.nodes.all() if n.desired_image).most_common(1)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "opts": modeladmin.model._meta, "media": modeladmin.media + form.media,
        "cluster": cluster, "target_image": target_image, "current_image": current[0][0] if current else "unknown",
        "plan": plan, "strategy": strategy, "form": form, "action": action, "selected_pk": selected_pk,
        "preview": PREVIEW, "reloads": cluster.fence_reloads_on_change,
        "behaviour": cluster.get_kato_behaviour_display(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        # The start refuses these too (images/rollouts/start.py); shown here with the setting each needs.
        "cannot_pull": pull_check.blocked_nodes(cluster, target_image),
        "registry_location": registry_trust.registry_of(target_image),
    }
    return TemplateResponse(request, "admin/images/rollout_confirmation.html", context)


def _shown_plan_is(request, strategy) -> bool:
    """The page carries the strategy its node order was drawn for. A client
    that sends none (a script posting the form) was shown no order to trust."""
    shown = (request.POST.get("planned_canaries"), request.POST.get("planned_max_in_flight"))
    return shown == (None, None) or shown == (str(strategy[0]), str(strategy[1]))
