import json

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from nodes import importer, jobs, protection_lift
from nodes.admin import plans
from nodes.admin.address_race import RefusesTakenMachines, refused_if_taken
from nodes.admin.cluster_form import ClusterForm
from nodes.admin.enqueue import enqueue_for_each
from nodes.admin.maintenance_window_inline import MaintenanceWindowInline
from nodes.models import Cluster, Node
from nodes.models.node import Drift
from stackato_dash.admin_confirmation import confirmation_page, confirmed


@admin.register(Cluster)
class ClusterAdmin(RefusesTakenMachines, admin.ModelAdmin):
    form = ClusterForm
    list_display = ["name", "core_address", "kato_behaviour", "registry", "node_count", "drift_summary", "last_import_at", "last_import_error"]
    readonly_fields = ["last_import_at", "last_import_error", "drift_summary", "desired_image", "desired_image_since",
                       "lift_request"]
    search_fields = ["name", "core_address", "api_endpoint"]
    actions = ["import_nodes", "refresh_facts"]
    inlines = [MaintenanceWindowInline]

    # What decides how a rollout goes (reload or restart, canaries or not,
    # which key names the image, where nodes pull from) is the Release
    # manager's: others see it read-only on an existing cluster, and being
    # read-only it is left out of the form, so a POSTed value is ignored.
    # Protection and maintenance windows (governance) likewise; and even a
    # Release manager's untick of Protected only requests the lift, which a
    # second one confirms (ClusterForm, nodes/protection_lift.py).
    STEERING_FIELDS = ["kato_behaviour", "config_component", "config_key", "registry", "protected",
                       "approval_expiry_minutes", "windows_timezone"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.has_perm("images.activate_rollout"):
            readonly += [name for name in self.STEERING_FIELDS if name not in readonly]
        return readonly

    def get_fields(self, request, obj=None):
        # The pending lift request next to the box it is about (read-only fields come last otherwise).
        fields = [name for name in super().get_fields(request, obj) if name != "lift_request"]
        if obj is not None:
            fields.insert(fields.index("protected") + 1, "lift_request")
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a class made for this request by modelform_factory
        return form

    @admin.display(description="protection lift")
    def lift_request(self, cluster):
        return protection_lift.describe(cluster)

    def save_form(self, request, form, change):
        cluster = super().save_form(request, form, change)
        if form.protection_untick is not None:
            form.protection_note = protection_lift.apply(cluster, form.protection_untick, request.user)
            self.message_user(request, form.protection_note,
                              messages.SUCCESS if form.protection_untick.lifts else messages.WARNING)
        return cluster

    def construct_change_message(self, request, form, formsets, add=False):
        # The history line of an untick says who requested and who confirmed,
        # then the admin's own words for whatever else the save changed.
        message = super().construct_change_message(request, form, formsets, add)
        note = getattr(form, "protection_note", "")
        if not note:
            return message
        others = LogEntry(change_message=json.dumps(message)).get_change_message() if message else ""
        return " ".join(filter(None, [note, others]))

    def get_queryset(self, request):
        # Drift counts per cluster in the same query as the clusters.
        counts = {f"n_{state}": Count("nodes", filter=Q(nodes__drift=state)) for state in Drift.values}
        return super().get_queryset(request).annotate(n_nodes=Count("nodes"), **counts)

    @admin.display(description="nodes", ordering="n_nodes")
    def node_count(self, cluster):
        return cluster.n_nodes

    @admin.display(description="drift")
    def drift_summary(self, cluster):
        parts = [f"{getattr(cluster, f'n_{state}', 0)} {label}" for state, label in Drift.choices
                 if getattr(cluster, f"n_{state}", 0)]
        return ", ".join(parts) or "no nodes"

    def save_model(self, request, obj, form, change):
        if change:
            # Only what the page edits (and a lift request decided on it): the
            # row's other fields are the jobs' (desired image, config reads,
            # imports), and a save must not put back what the page loaded, such
            # as a lift request confirmed meanwhile.
            fields = [name for name in form.fields if name in {f.name for f in Cluster._meta.concrete_fields}]
            if form.protection_untick is not None:
                fields += protection_lift.REQUEST_FIELDS
            obj.save(update_fields=fields)
        else:
            super().save_model(request, obj, form, change)
        # Two clusters added on one address at once: the second's Core node
        # is refused by the database, and nothing of this save stays.
        with refused_if_taken(obj.core_address, obj):
            importer.ensure_core_node(obj)

    def has_import_nodes_permission(self, request):
        return request.user.has_perm("nodes.import_nodes")

    def has_refresh_facts_permission(self, request):
        return request.user.has_perm("nodes.refresh_facts")

    @admin.action(description="Import nodes… (kato node list on the Core node)", permissions=["import_nodes"])
    def import_nodes(self, request, queryset):
        if confirmed(request):
            return enqueue_for_each(request, queryset, jobs.import_cluster_nodes, "Import nodes")
        return confirmation_page(self, request, queryset, title="Import nodes", button="Yes, import",
                                 intro="Each cluster's Core node is asked which nodes the cluster has.",
                                 rows=plans.import_rows(queryset))

    def get_urls(self):
        refresh = path("<int:cluster_id>/refresh-facts/", self.admin_site.admin_view(self.refresh_facts_view),
                       name="nodes_cluster_refresh_facts")
        return [refresh, *super().get_urls()]  # before the admin's catch-all "<object_id>/"

    def refresh_facts_view(self, request, cluster_id: int):
        """"Refresh facts…" as a link (the home page's cluster row): the action's
        plan page for one cluster; its confirming POST comes back here, then the
        cluster's nodes are shown."""
        if not self.has_refresh_facts_permission(request):
            raise PermissionDenied
        cluster = get_object_or_404(Cluster, pk=cluster_id)
        response = self.refresh_facts(request, Cluster.objects.filter(pk=cluster.pk))
        if response is not None:
            return response
        return redirect(f"{reverse('admin:nodes_node_changelist')}?cluster__id__exact={cluster.pk}")

    @admin.action(description="Refresh facts of every node…", permissions=["refresh_facts"])
    def refresh_facts(self, request, queryset):
        nodes = Node.objects.filter(cluster__in=queryset).select_related("cluster")
        if confirmed(request):
            return enqueue_for_each(request, nodes, jobs.refresh_node_facts, "Refresh facts")
        return confirmation_page(self, request, queryset, title="Refresh facts", button="Yes, refresh",
                                 intro="Every node of the selected clusters is read again (read-only).",
                                 rows=plans.refresh_rows(nodes))
