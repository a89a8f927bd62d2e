from django.contrib import admin, messages
from django.core import signing

from nodes import host_keys, jobs
from nodes.admin import facts_source, plans, restart_history
from nodes.admin.address_race import RefusesTakenMachines, refused_if_taken
from nodes.admin.enqueue import enqueue_for_each
from nodes.forms import NodeForm
from nodes.models import Node
from stackato_dash.admin_confirmation import confirmation_page, confirmed


@admin.register(Node)
class NodeAdmin(RefusesTakenMachines, admin.ModelAdmin):
    form = NodeForm
    list_display = ["address", "cluster", "role_list", "drift", "fence_state", "fence_started_at", "facts_from", "reachable", "last_seen", "enabled", "in_maintenance"]
    list_filter = ["cluster", "drift", "enabled", "in_maintenance", "reachable"]
    list_select_related = ["cluster"]
    search_fields = ["address", "desired_image"]
    actions = ["trust_host_key", "refresh_facts"]
    fieldsets = [
        (None, {"fields": ["cluster", "address", "ssh_port", "ssh_user", "roles", "enabled", "in_maintenance"]}),
        ("Host key", {"fields": ["host_key_type", "host_key_fingerprint", "host_key_trusted_at", "host_key_trusted_by",
                                 "host_key_mismatch_fingerprint", "host_key_mismatch_at"]}),
        ("Facts", {"fields": ["drift", "facts_from", "reachable", "last_seen", "facts_refreshed_at", "last_error", "desired_image",
                              "fence_state", "fence_pid", "fence_started_at", "docker_version", "images"]}),
    ]
    readonly_fields = [f for name, opts in fieldsets[1:] for f in opts["fields"]] + ["restart_history"]

    def save_model(self, request, obj, form, change):
        # Another cluster (or page) saved this address since the form checked it.
        with refused_if_taken(obj.address, obj.cluster, obj):
            super().save_model(request, obj, form, change)

    @admin.display(description="facts from")
    def facts_from(self, node):
        return facts_source.html(node)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return [*self.fieldsets, ("Restart history", {"fields": ["restart_history"]})]

    @admin.display(description="fence restarts")
    def restart_history(self, node):
        return restart_history.table(node)

    @admin.display(description="roles")
    def role_list(self, node):
        return " ".join(node.roles)

    def has_trust_host_key_permission(self, request):
        return request.user.has_perm("nodes.trust_host_key")

    def has_refresh_facts_permission(self, request):
        return request.user.has_perm("nodes.refresh_facts")

    @admin.action(description="Refresh facts…", permissions=["refresh_facts"])
    def refresh_facts(self, request, queryset):
        queryset = queryset.select_related("cluster")
        if confirmed(request):
            return enqueue_for_each(request, queryset, jobs.refresh_node_facts, "Refresh facts")
        return confirmation_page(self, request, queryset, title="Refresh facts", button="Yes, refresh",
                                 intro="The selected nodes are read again (read-only).",
                                 rows=plans.refresh_rows(queryset))

    @admin.action(description="Trust host key…", permissions=["trust_host_key"])
    def trust_host_key(self, request, queryset):
        if confirmed(request):
            return self._pin_confirmed(request, queryset)
        presented = [host_keys.scan(node, request.user) for node in queryset.select_related("cluster")]
        return confirmation_page(self, request, queryset, title="Trust host keys", button="Yes, trust these keys",
                                 intro=plans.TRUST_INTRO, rows=plans.trust_rows(presented), needs_worker=False,
                                 selected=[row.node.pk for row in presented if row.key])

    def _pin_confirmed(self, request, queryset):
        for node in queryset:
            token = request.POST.get(f"key_{node.pk}", "")
            try:
                key = host_keys.key_from_token(node, token, request.user)
                host_keys.pin(node, key, request.user.get_username())
            except signing.BadSignature:
                messages.error(request, f"{node.address}: the confirmation for this key is missing, expired, used "
                                        "already, or not from this page for this node and user; nothing was pinned. "
                                        "Start again.")
                continue
            messages.success(request, f"{node.address}: pinned {key.key_type} {key.fingerprint}.")
        return None
