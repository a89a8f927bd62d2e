"""Two-step admin actions, as Django's delete_selected: the first POST shows
the plan (and whether a worker is alive), only the POST with post=yes acts.
Nothing here runs on GET: admin actions are dispatched from POSTs only."""
from dataclasses import dataclass

from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from stackato_dash import queueing


@dataclass
class PlanRow:
    subject: str
    effect: str
    refusal: str = ""  # why this row will not be acted on; shown in place of the effect


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
                      button: str, needs_worker: bool = True, choices: list[tuple[str, str]] = ()):
    """choices: (value, label) pairs the operator picks one of, posted as
    `choice` (the first is preselected), e.g. cancel's stop here / roll back."""
    worker_ok, worker_message = worker_status() if needs_worker else (True, "")
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title, "intro": intro, "rows": rows, "button": button,
        "opts": modeladmin.model._meta, "media": modeladmin.media,
        "action": request.POST.get("action", ""),
        "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "worker_ok": worker_ok, "worker_message": worker_message,
        "actionable": any(not row.refusal for row in rows), "choices": choices,
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)
