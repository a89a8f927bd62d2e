from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from nodes import audit_search, audit_verify
from nodes.admin import audit_export, audit_paging, fleet_view
from nodes.admin.audit_filters import NodeAddressFilter, RolloutFilter, UsernameFilter
from nodes.models import FenceRestart
from stackato_dash.read_only_admin import ReadOnlyAdmin


@admin.register(FenceRestart)
class FenceRestartAdmin(ReadOnlyAdmin):
    """Read-only for everyone, superusers included: the history is evidence.
    Built for hundreds of thousands of rows: indexed filters, no full count."""
    # The copied cluster name: a renamed cluster does not rewrite the history shown.
    list_display = ["started_at", "node_address", "cluster_name", "requested_by_username", "outcome", "image_before",
                    "image_after", "reason"]
    list_filter = ["cluster", NodeAddressFilter, UsernameFilter, "outcome", RolloutFilter]
    search_fields = audit_search.SEARCHED  # each has a trigram index (nodes/audit_search.py)
    date_hierarchy = "started_at"
    show_full_result_count = False  # a second COUNT(*) over the whole table on every page
    actions = None
    # Not editable (no form field), so shown only when named here.
    readonly_fields = ["chain_seq", "prev_hash", "row_hash"]

    def changelist_view(self, request, extra_context=None):
        # The badges: an incremental check of each chain, a constant few queries at any size (nodes/audit_verify.py).
        return super().changelist_view(request, {**(extra_context or {}),
                                                 "audit_chains": audit_verify.incremental_all()})

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return audit_search.narrow(queryset, search_term) if search_term else queryset, may_have_duplicates

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return audit_paging.paginator_for(request, queryset, per_page)

    def get_urls(self):
        export = [
            path(f"export.{kind}", self.admin_site.admin_view(lambda request, kind=kind: self.export(request, kind)),
                 name=f"nodes_fencerestart_export_{kind}")
            for kind in audit_export.KINDS
        ]
        fleet = [
            path("fleet/", self.admin_site.admin_view(lambda request: fleet_view.pick_view(self, request)),
                 name="nodes_fencerestart_fleet_pick"),
            path("fleet/<int:cluster_id>/",
                 self.admin_site.admin_view(lambda request, cluster_id: fleet_view.fleet_at_view(self, request,
                                                                                                  cluster_id)),
                 name="nodes_fencerestart_fleet_at"),
        ]
        return export + fleet + super().get_urls()  # before the admin's catch-all "<object_id>/"

    def export(self, request, kind: str):
        """The changelist's own filtered, searched queryset, as a download."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:  # as the changelist itself answers a bad filter
            return HttpResponseRedirect(reverse("admin:nodes_fencerestart_changelist") + "?e=1")
        return audit_export.stream(queryset, kind)
