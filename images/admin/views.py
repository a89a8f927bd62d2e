"""Admin pages beside the ImageVersion changelist: new version from the
active image, the registry's tags, the live log (registry provisioning:
registry_provision_views.py)."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from images import registry, registry_listing
from images.active_image import ActiveImageError, draft_from_active
from images.forms import ClusterChoiceForm
from images.models import ImageVersion
from nodes.models import Cluster

LOG_PAGE = 2000  # lines per poll of the live log


def _page(model_admin, request, template: str, title: str, **context):
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "title": title,
               **context}
    return TemplateResponse(request, f"admin/images/imageversion/{template}", context)


def from_active(model_admin, request):
    """POST creates the draft: reading the Core's config is quick, and the
    operator sees at once what FROM and which tag were chosen."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    # ?cluster=<pk> preselects, so the home page's cluster row can link here;
    # with only one cluster there is nothing to choose.
    form = ClusterChoiceForm(request.POST or None, initial={"cluster": request.GET.get("cluster") or _only_cluster()})
    if request.method == "POST" and form.is_valid():
        try:
            version = draft_from_active(form.cleaned_data["cluster"], request.user)
        except ActiveImageError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Draft {version} created FROM {version.from_reference}. Add RUN steps, "
                                      "save, then build it.")
            return redirect("admin:images_imageversion_change", version.pk)
    return _page(model_admin, request, "from_active.html", "New version from the active image", form=form)


def _only_cluster() -> int | None:
    pks = list(Cluster.objects.values_list("pk", flat=True)[:2])
    return pks[0] if len(pks) == 1 else None


def registry_index(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    clusters = Cluster.objects.order_by("name")
    return _page(model_admin, request, "registry.html", "Cluster registries", clusters=clusters)


def registry_tags(model_admin, request, cluster_id: int):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    rows, truncated, error = [], False, ""
    if cluster.registry:
        try:
            rows, truncated = registry_listing.list_tags(cluster)
        except registry.RegistryError as failure:
            error = str(failure)
    return _page(model_admin, request, "registry.html", f"Registry of {cluster}", cluster=cluster, rows=rows,
                 truncated=truncated, error=error, unknown=sum(row.version is None for row in rows))


def log_lines(model_admin, request, object_id: int):
    """The log lines after ?after=N, for the change page to poll while a job runs."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    version = ImageVersion.objects.filter(pk=object_id).first()
    if version is None:
        raise Http404
    if not model_admin.has_view_permission(request, version):
        raise PermissionDenied
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    lines = list(version.log_lines.filter(number__gt=after).values_list("number", "text")[:LOG_PAGE])
    return JsonResponse({"status": version.status, "running": version.is_running, "lines": lines,
                         "change_url": reverse("admin:images_imageversion_change", args=[version.pk])})
