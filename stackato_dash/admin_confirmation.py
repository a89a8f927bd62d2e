"""Two-step admin actions, as Django's delete_selected: the first POST shows
the plan (and whether a worker is alive), only the POST with post=yes acts.
Nothing here runs on GET: admin actions are dispatched from POSTs only.

Every two-step action of the console goes through confirmation_page() and
its one template (admin/confirm_action.html): cancel, build, push, import,
refresh, provision, trust host keys, and the rollout plan with its strategy
form (whose node order is drawn by its own part of the page, `details`)."""
from dataclasses import dataclass, field

from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from stackato_dash import queueing


@dataclass
class PlanRow:
    subject: str
    effect: str
    refusal: str = ""  # why this row will not be acted on; shown in place of the effect
    # What the confirming POST carries for this row (e.g. a signed token of what was shown).
    hidden: dict[str, str] = field(default_factory=dict)


@dataclass
class Redraw:
    """A second button that only redraws the plan for what was typed in the
    form (no side effect; the form's required fields are not required)."""
    name: str
    label: str


def confirmed(request) -> bool:
    return request.POST.get("post") == "yes"


def choice(request) -> str:
    """The option picked on a page with choices (confirmation_page)."""
    return request.POST.get("choice", "")


def worker_status() -> tuple[bool, str]:
    try:
        queueing.require_worker()
    except queueing.NoWorker as error:
        return False, str(error)
    return True, f"A worker is listening on the '{queueing.QUEUE}' queue."


def confirmation_page(modeladmin, request, queryset, *, title: str, intro: str, rows: list[PlanRow],
                      button: str, needs_worker: bool = True, choices: list[tuple[str, str]] = (),
                      selected=None, form=None, details: str = "", details_context: dict | None = None,
                      hidden: dict | None = None, redraw: Redraw | None = None, actionable: bool | None = None,
                      action: str = ""):
    """choices: (value, label) pairs the operator picks one of, posted as
    `choice` (the first is preselected), e.g. cancel's stop here / roll back.
    selected: the primary keys the confirming POST acts on (default: the
    queryset's). form: fields the operator fills in before confirming.
    details: a template drawing a plan that is more than rows (with
    details_context). hidden: page-wide fields the confirming POST carries.
    actionable: whether the button is offered (default: some row is not refused).
    action: the admin action the confirming POST names (default: the one posted;
    a page reached by a link names it here)."""
    worker_ok, worker_message = worker_status() if needs_worker else (True, "")
    if selected is None:
        selected = queryset.values_list("pk", flat=True)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "intro": intro, "rows": rows, "button": button,
        "opts": modeladmin.model._meta, "media": modeladmin.media + form.media if form else modeladmin.media,
        "action": action or request.POST.get("action", ""),
        "selected": [str(pk) for pk in selected],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "worker_ok": worker_ok, "worker_message": worker_message,
        "actionable": any(not row.refusal for row in rows) if actionable is None else actionable,
        "choices": choices, "form": form, "details": details, "hidden": (hidden or {}).items(), "redraw": redraw,
        **(details_context or {}),
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)
