""""Promote to cluster…" on an image version: a plan page (one row per other
cluster, the ones it may go to as choices) through the one confirmation
helper, then the POST that queues the copy job; the promotion's own page
(log, status) links to the usual rollout plan page on the target once the
target registry serves the same digest. Permissions: the Promotion model's
own, as every other admin page checks its model's: images.add_promotion to
request one (the Release manager's, images migration 0017),
images.view_promotion to read its page (every role's, nodes migration 0014);
reading the version (images.view_imageversion) is not reading its promotions."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from images.models import Promotion
from images.promotion import pipeline, rules
from stackato_dash.admin_confirmation import PlanRow, choice, confirmation_page, confirmed


@admin.action(description="Promote to cluster… (copy by digest, then plan the rollout there)", permissions=["promote"])
def promote(modeladmin, request, queryset):
    if queryset.count() != 1:
        messages.error(request, "Select exactly one image version to promote.")
        return None
    version = queryset.select_related("cluster").get()
    clusters = rules.candidates(version)
    if confirmed(request):
        chosen = next((c for c in clusters if str(c.pk) == choice(request)), None)
        if chosen is None:
            messages.error(request, "Choose the cluster to promote to.")
            return None
        try:
            row = rules.request(version, chosen, request.user)
        except rules.PromotionRefused as error:
            messages.error(request, str(error))
            return None
        messages.success(request, f"Promotion of {version} to {chosen} queued: this page follows the copy.")
        return redirect("admin:images_imageversion_promotion", row.pk)
    rows, choices = [], []
    for cluster in clusters:
        refusal = rules.refusal(version, cluster)
        rows.append(PlanRow(f"{version} → {cluster}", "" if refusal else rules.effect(version, cluster), refusal))
        if not refusal:
            choices.append((str(cluster.pk), f"Promote to {cluster} "
                                             f"({cluster.registry or 'no registry: streamed to each DEA'})"))
    if not clusters:
        messages.error(request, "There is no other cluster to promote to.")
        return None
    return confirmation_page(modeladmin, request, queryset, title=f"Promote {version}", rows=rows,
                             button="Yes, copy it", choices=choices, actionable=bool(choices),
                             intro=f"The image is copied by its digest {version.manifest_digest or '(none)'} from "
                                   f"{version.cluster}'s registry to the chosen cluster's registry (or, without one, "
                                   "its DEAs by the rollout); nothing is rolled out until you start the rollout "
                                   "there on its plan page.")


def promotion_page(modeladmin, request, promotion_id):
    """One promotion: status, reason and log (the page reloads while it runs),
    and once done the link to the rollout plan page on the target cluster."""
    if not request.user.has_perm(rules.VIEW_PERMISSION):
        raise PermissionDenied
    row = get_object_or_404(Promotion.objects.select_related("source__cluster", "target_cluster", "target"),
                            pk=promotion_id)
    context = {**modeladmin.admin_site.each_context(request), "opts": modeladmin.model._meta,
               "title": f"Promotion of {row.source} to {row.target_cluster}", "run": row,
               "can_roll_out": modeladmin.has_activate_permission(request)}
    return TemplateResponse(request, "admin/images/imageversion/promotion.html", context)


def pipeline_html(version):
    """The version page's pipeline: one box per cluster, arrows in promotion order."""
    stages = pipeline.pipeline(version)
    if len(stages) == 1 and not stages[0].active and not stages[0].running_on:
        return "-"
    return format_html('<ol id="pipeline" class="pipeline" style="list-style: none; padding: 0">{}</ol>',
                       format_html_join("", "<li>{}{}</li>", ((_arrow(stage), _box(stage, version))
                                                             for stage in stages)))


def _arrow(stage):
    if stage.promotion is None:
        return ""
    # format_html escapes its arguments to text first: the date is formatted here.
    return format_html('&darr; <a href="{}">promoted</a> by {} on {}<br>',
                       reverse("admin:images_imageversion_promotion", args=[stage.promotion.pk]),
                       stage.promotion.requested_by_username,
                       f"{timezone.localtime(stage.promotion.created_at):%Y-%m-%d %H:%M}")


def _box(stage, current):
    if stage.version is None:
        name = format_html("{}", stage.cluster)
        where = ""
    else:
        link = reverse("admin:images_imageversion_change", args=[stage.version.pk])
        name = format_html('<a href="{}">{}</a> ({})', link, stage.cluster, stage.version)
        where = format_html(": runs on {} of {} DEAs at the last refresh", len(stage.running_on), stage.dea_count)
    mark = " (this page)" if stage.version is not None and stage.version.pk == current.pk else ""
    return format_html('<strong>{}</strong>{} &mdash; <span class="stage-state">{}</span>{}',
                       name, mark, stage.state, where)
