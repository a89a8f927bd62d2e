"""The "Provision registry…" pages: the clusters, the plan (the shared
two-step confirmation), then one job per cluster and its live log."""
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from images import jobs, registry_provision
from images.models import RegistryProvisioning
from nodes.models import Cluster
from stackato_dash import queueing
from stackato_dash.admin_confirmation import PlanRow, confirmation_page, confirmed

ACTION = "provision_registry"


def _allowed(request) -> None:
    if not request.user.has_perm("nodes.change_cluster"):
        raise PermissionDenied


def _page(model_admin, request, template: str, title: str, **context):
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "title": title,
               **context}
    return TemplateResponse(request, f"admin/images/imageversion/{template}", context)


def provision(model_admin, request):
    """GET: the clusters; POST: the plan of the chosen ones; POST post=yes: queue."""
    _allowed(request)
    if request.method == "POST":
        chosen = Cluster.objects.filter(pk__in=[pk for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
                                                if pk.isdigit()])
        if not chosen.exists():
            messages.error(request, "Choose a cluster from the list.")
            return redirect("admin:images_imageversion_provision_registry")
        if confirmed(request):
            return _queue(request, chosen)
        rows = []
        for cluster in chosen:
            effect, refusal = registry_provision.plan(cluster)
            rows.append(PlanRow(str(cluster), effect, refusal))
        return confirmation_page(model_admin, request, chosen, title="Provision a registry on the Core node",
                                 intro=f"The registry image is {settings.REGISTRY_IMAGE} (setting REGISTRY_IMAGE). "
                                       "Running it again is safe: a running registry container is kept, a stopped "
                                       "one started again.", rows=rows, button="Yes, provision")
    return _page(model_admin, request, "provision_registry.html", "Provision a registry on the Core node",
                 clusters=Cluster.objects.order_by("name"), action=ACTION, image=settings.REGISTRY_IMAGE,
                 action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
                 runs=RegistryProvisioning.objects.select_related("cluster")[:20])


def _queue(request, chosen):
    try:
        queueing.require_worker()
    except queueing.NoWorker as error:
        messages.error(request, str(error))
        return redirect("admin:images_imageversion_provision_registry")
    queued = []
    for cluster in chosen:
        _, refusal = registry_provision.plan(cluster)
        if refusal:
            messages.error(request, f"{cluster}: {refusal}")
            continue
        row = RegistryProvisioning.objects.create(cluster=cluster, image=settings.REGISTRY_IMAGE,
                                                  requested_by_username=request.user.get_username())
        queueing.enqueue_on_commit(jobs.provision_registry, str(row.pk),
                                   description=f"Provision registry of {row.cluster}")
        queued.append(row)
    if len(queued) == 1:
        messages.success(request, f"Registry provisioning of {queued[0].cluster} queued.")
        return redirect("admin:images_imageversion_provisioning", queued[0].pk)
    if queued:
        messages.success(request, f"Registry provisioning queued for {', '.join(str(row.cluster) for row in queued)}.")
    return redirect("admin:images_imageversion_provision_registry")


def provisioning(model_admin, request, provisioning_id):
    """One run: status and log; the page reloads itself while it runs. A
    record every role reads (nodes migration 0014); whoever provisions reads
    it too, even without the grant."""
    may_provision = request.user.has_perm("nodes.change_cluster")
    if not (may_provision or request.user.has_perm("images.view_registryprovisioning")):
        raise PermissionDenied
    row = get_object_or_404(RegistryProvisioning.objects.select_related("cluster"), pk=provisioning_id)
    return _page(model_admin, request, "registry_provisioning.html", f"Registry provisioning of {row.cluster}",
                 run=row, may_provision=may_provision)
