"""The rollout page's Pause…, Resume…, Continue… and Roll back… buttons, as
admin actions of the Rollout admin (beside Cancel…): two-step POSTs through
the shared confirmation page, for users who may activate rollouts. Each acts
through images/rollouts/pause.py or manual_gate.py, which record who and when."""
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from images.models.rollout import GateDecision
from images.rollouts import manual_gate, pause
from stackato_dash.admin_confirmation import PlanRow, confirmation_page, confirmed


def _two_steps(modeladmin, request, queryset, *, title, intro, button, effect, refusal, act, refused):
    rollouts = list(queryset.select_related("cluster"))
    if not confirmed(request):
        rows = [PlanRow(str(r), "" if refusal(r) else effect(r), refusal(r)) for r in rollouts]
        return confirmation_page(modeladmin, request, queryset, title=title, button=button, intro=intro, rows=rows,
                                 needs_worker=False)
    for rollout in rollouts:
        try:
            messages.success(request, act(rollout))
        except refused as error:
            messages.warning(request, str(error))
    if len(rollouts) == 1:  # pressed on the rollout's page: back to it
        return HttpResponseRedirect(reverse("admin:images_rollout_change", args=[rollouts[0].pk]))
    return None


@admin.action(description="Pause… (finish the steps in flight, start no more)", permissions=["activate"])
def pause_rollouts(modeladmin, request, queryset):
    return _two_steps(
        modeladmin, request, queryset, title="Pause rollouts", button="Yes, pause",
        intro="The node steps already running finish; no further step starts until it is resumed. "
              "Cancel still works while it is paused.",
        effect=lambda r: f"{pause.in_flight(r)} step(s) in flight finish; then it waits for Resume.",
        refusal=pause.pause_refusal, act=lambda r: pause.pause(r, user=request.user), refused=pause.PauseRefused)


@admin.action(description="Resume… (start the steps a pause held)", permissions=["activate"])
def resume_rollouts(modeladmin, request, queryset):
    return _two_steps(
        modeladmin, request, queryset, title="Resume rollouts", button="Yes, resume",
        intro="The rollout decides again at once and starts the steps its pause held, with its strategy.",
        effect=lambda r: "It goes on where it stopped.", refusal=pause.resume_refusal,
        act=lambda r: pause.resume(r, user=request.user), refused=pause.PauseRefused)


@admin.action(description="Continue… (manual gate: start the other DEAs)", permissions=["activate"])
def continue_at_gate(modeladmin, request, queryset):
    return _two_steps(
        modeladmin, request, queryset, title="Continue after the canaries", button="Yes, continue",
        intro="The canaries succeeded and the rollout waits at its manual gate.",
        effect=lambda r: manual_gate.effect(r, GateDecision.CONTINUE), refusal=manual_gate.refusal,
        act=lambda r: manual_gate.choose(r, GateDecision.CONTINUE, user=request.user), refused=manual_gate.GateRefused)


@admin.action(description="Roll back… (manual gate: put the canaries back)", permissions=["activate"])
def roll_back_at_gate(modeladmin, request, queryset):
    return _two_steps(
        modeladmin, request, queryset, title="Roll back at the manual gate", button="Yes, roll back",
        intro="The canaries succeeded and the rollout waits at its manual gate. A rollback always completes.",
        effect=lambda r: manual_gate.effect(r, GateDecision.ROLL_BACK), refusal=manual_gate.refusal,
        act=lambda r: manual_gate.choose(r, GateDecision.ROLL_BACK, user=request.user), refused=manual_gate.GateRefused)


ACTIONS = [pause_rollouts, resume_rollouts, continue_at_gate, roll_back_at_gate]


def buttons(rollout, may_activate: bool) -> list[tuple[str, str]]:
    """(action name, label) of the buttons the rollout's page offers now."""
    if not may_activate:
        return []
    offered = [("pause_rollouts", "Pause…", not pause.pause_refusal(rollout)),
               ("resume_rollouts", "Resume…", not pause.resume_refusal(rollout)),
               ("continue_at_gate", "Continue…", not manual_gate.refusal(rollout)),
               ("roll_back_at_gate", "Roll back…", not manual_gate.refusal(rollout))]
    return [(name, label) for name, label, available in offered if available]
