"""The fleet at a moment T: a page per cluster (reachable from the cluster's
admin page and the audit page) with a table node / image / since / audit
row, and the per-node timeline as server-drawn SVG (nodes/fleet_at.py,
nodes/fleet_chart.py). Viewable by whoever may view the audit."""
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from nodes import fleet_at, fleet_chart
from nodes.models import Cluster

INPUT_FORMAT = "%Y-%m-%dT%H:%M:%S"
YEARS = (1970, 2999)  # any moment a fence restart can have been recorded, with room


def parse_moment(text: str) -> tuple[datetime | None, str]:
    """(the moment, '') or (None, why not). Empty means now; a time without an
    offset is in the console's time zone."""
    text = (text or "").strip()
    if not text:
        return timezone.now(), ""
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        return None, f"\u201c{text[:60]}\u201d is not a date and time (YYYY-MM-DD HH:MM[:SS])."
    # Near the calendar's ends the timeline's margin would leave it (OverflowError).
    if not YEARS[0] <= moment.year <= YEARS[1]:
        return None, f"\u201c{text[:60]}\u201d is not between {YEARS[0]} and {YEARS[1]}."
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, ""


def _check(model_admin, request) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def pick_view(model_admin, request):
    """From the audit page: which cluster?"""
    _check(model_admin, request)
    context = {**model_admin.admin_site.each_context(request), "title": "The fleet at a moment: pick a cluster",
               "clusters": Cluster.objects.order_by("name"), "opts": model_admin.model._meta}
    return TemplateResponse(request, "admin/nodes/fencerestart/fleet_pick.html", context)


def fleet_at_view(model_admin, request, cluster_id: int):
    _check(model_admin, request)
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    at, error = parse_moment(request.GET.get("at", ""))
    context = {**model_admin.admin_site.each_context(request), "title": f"Fleet of {cluster.name} at a moment",
               "cluster": cluster, "error": error, "at_text": request.GET.get("at", ""),
               "time_zone": timezone.get_current_timezone_name(),
               "opts": model_admin.model._meta}
    if at is not None:
        now = timezone.now()
        nodes = fleet_at.nodes_of(cluster)
        start, end = fleet_at.window(cluster, at, now)
        segments = fleet_at.timelines(cluster, at, start, end, nodes)
        context.update(at=at, at_text=timezone.localtime(at).strftime(INPUT_FORMAT),
                       states=fleet_at.states_at(cluster, at, nodes), future=at > now,
                       chart=fleet_chart.chart(nodes, segments, start, end, at), start=start, end=end)
    return TemplateResponse(request, "admin/nodes/fencerestart/fleet_at.html", context, status=400 if error else 200)
