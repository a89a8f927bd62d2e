"""The two-step "Roll out…" / "Roll back…" / "Undo…" actions: a plan page with
the strategy form (no side effects), then the POST that starts it. The page
is the one confirmation page (stackato_dash/admin_confirmation.py) with the
rollout's plan drawn by admin/images/rollout_plan.html.

The node order on the page is drawn for the strategy in the form: "Show the
plan" redraws it for what was typed, and Start starts only the plan that was
shown (a strategy changed since is drawn first, and Start asked again)."""
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from images import registry_trust
from images.rollouts import governance
from images.rollouts import plan as planning
from images.rollouts import pull_check
from images.rollouts import start
from images.rollouts.forms import RolloutForm
from nodes import config_history
from stackato_dash.admin_confirmation import Redraw, confirmation_page, confirmed

PREVIEW = "_preview"  # the name of the "Show the plan" button


def confirm_and_start(modeladmin, request, *, cluster, target_image, image_size, action, title, starter, selected_pk):
    """starter(**strategy) starts it; called only on the confirming POST with a valid form."""
    posted = confirmed(request)
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
                waiting = governance.waiting_for(rollout)
                messages.success(request, f"Requested: {rollout}; {waiting}." if waiting else f"Started: {rollout}.")
                return HttpResponseRedirect(reverse("admin:images_rollout_change", args=[rollout.pk]))
        else:
            messages.warning(request, "The strategy changed since the node order was shown: below is the order it "
                                      "gives. Check it and press Start again.")
    # Every value in `strategy` passed the form's validation, so the plan cannot refuse it.
    plan = None if strategy is None else planning.make_plan(
        cluster, target_image, canaries=strategy[0], max_in_flight=strategy[1], image_size=image_size)
    # The console's record of the config, not the nodes' last refresh: after a
    # rollout or rollback that refresh still names the image it replaced.
    current = config_history.current(cluster)
    # The start refuses these too (images/rollouts/start.py); shown here with the setting each needs.
    cannot_pull = pull_check.blocked_nodes(cluster, target_image)
    drawn_for = {} if plan is None else {"planned_canaries": str(strategy[0]), "planned_max_in_flight": str(strategy[1])}
    return confirmation_page(
        modeladmin, request, modeladmin.model.objects.none(), title=title, rows=[], button="Start",
        intro="Nothing has changed yet. The node order below is drawn for the strategy in the form: "
              "check it, then start.",
        selected=[selected_pk], action=action, form=form, hidden=drawn_for, redraw=Redraw(PREVIEW, "Show the plan"),
        actionable=bool(plan and plan.nodes and not cannot_pull),
        details="admin/images/rollout_plan.html", details_context={
            "cluster": cluster, "target_image": target_image, "current_image": current or "unknown",
            "plan": plan, "strategy": strategy, "reloads": cluster.fence_reloads_on_change,
            "behaviour": cluster.get_kato_behaviour_display(), "cannot_pull": cannot_pull,
            "registry_location": registry_trust.registry_of(target_image),
            "governance_note": governance.plan_note(cluster)})


def _shown_plan_is(request, strategy) -> bool:
    """The page carries the strategy its node order was drawn for. A client
    that sends none (a script posting the form) was shown no order to trust."""
    shown = (request.POST.get("planned_canaries"), request.POST.get("planned_max_in_flight"))
    return shown == (None, None) or shown == (str(strategy[0]), str(strategy[1]))
