from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from images.admin import actions, promotion_views, registry_provision_views, views
from images.admin.rollout_admin import roll_out_view, rollout_actions_for_versions
from images.dockerfile import DockerfileError
from images.forms import ImageVersionForm
from images.models import ImageVersion, RunStep
from images.models.image_version import DEFINITION_FIELDS
from images.promotion import rules as promotion_rules

STATUS_FIELDS = ["status", "reason", "local", "engine_reference", "image_id", "size", "registry_reference",
                 "manifest_digest", "built_at", "pushed_at", "created_by_username", "created_at"]


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = ["position", "command"]
    extra = 1
    max_num = 100

    # Once anything was built from a version its steps are read-only.
    def has_add_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)


@admin.register(ImageVersion)
class ImageVersionAdmin(admin.ModelAdmin):
    form = ImageVersionForm
    inlines = [RunStepInline]
    list_display = ["name", "cluster", "status", "short_digest", "created_by_username", "created_at"]
    list_filter = ["status", "local", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["repository", "tag", "from_reference", "manifest_digest", "image_id"]
    actions = ["build", "push", *rollout_actions_for_versions(), promotion_views.promote]
    definition = ["cluster", "repository", "tag", "parent", "from_reference", "cmd", "release_notes"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": self.definition})]
        return [(None, {"fields": self.definition}), ("Dockerfile", {"fields": ["dockerfile_text"]}),
                ("Status", {"fields": STATUS_FIELDS}), ("Pipeline", {"fields": ["pipeline"]}),
                ("Build and push log", {"fields": ["build_log"]})]

    def get_readonly_fields(self, request, obj=None):
        frozen = list(DEFINITION_FIELDS) if obj is not None and not obj.is_editable else []
        return frozen + STATUS_FIELDS + ["dockerfile_text", "pipeline", "build_log"]

    def get_urls(self):
        own = [
            path("from-active/", self.admin_site.admin_view(lambda r: views.from_active(self, r)),
                 name="images_imageversion_from_active"),
            path("registry/", self.admin_site.admin_view(lambda r: views.registry_index(self, r)),
                 name="images_imageversion_registry_index"),
            path("registry/<int:cluster_id>/", self.admin_site.admin_view(lambda r, cluster_id: views.registry_tags(
                self, r, cluster_id)), name="images_imageversion_registry"),
            path("provision-registry/", self.admin_site.admin_view(lambda r: registry_provision_views.provision(
                self, r)), name="images_imageversion_provision_registry"),
            path("provision-registry/<uuid:provisioning_id>/", self.admin_site.admin_view(
                lambda r, provisioning_id: registry_provision_views.provisioning(self, r, provisioning_id)),
                name="images_imageversion_provisioning"),
            path("promotions/<uuid:promotion_id>/", self.admin_site.admin_view(
                lambda r, promotion_id: promotion_views.promotion_page(self, r, promotion_id)),
                name="images_imageversion_promotion"),
            path("<int:object_id>/roll-out/", self.admin_site.admin_view(lambda r, object_id: roll_out_view(
                self, r, object_id)), name="images_imageversion_roll_out"),
            path("<int:object_id>/log/", self.admin_site.admin_view(lambda r, object_id: views.log_lines(
                self, r, object_id)), name="images_imageversion_log"),
        ]
        return own + super().get_urls()  # before the admin's catch-all "<object_id>/"

    @admin.display(description="image", ordering="repository")
    def name(self, version):
        return str(version)

    @admin.display(description="digest", ordering="manifest_digest")
    def short_digest(self, version):
        return version.manifest_digest[:19] if version.manifest_digest else ("local" if version.local else "")

    @admin.display(description="reason")
    def reason(self, version):
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', version.status_reason) \
            if version.status_reason else "-"

    @admin.display(description="where it runs")
    def pipeline(self, version):
        return promotion_views.pipeline_html(version)

    @admin.display(description="Dockerfile")
    def dockerfile_text(self, version):
        return format_html('<pre id="dockerfile">{}</pre>', version.dockerfile or "(rendered when saved)")

    @admin.display(description="log")
    def build_log(self, version):
        lines = list(version.log_lines.values_list("number", "text"))
        return format_html('<pre id="build-log" data-url="{}" data-last="{}" data-running="{}" '
                           'style="max-height: 40em; overflow: auto; white-space: pre-wrap">{}</pre>',
                           reverse("admin:images_imageversion_log", args=[version.pk]),
                           lines[-1][0] if lines else 0, "yes" if version.is_running else "",
                           "\n".join(text for _, text in lines))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by, obj.created_by_username = request.user, request.user.get_username()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        version = form.instance
        if version.is_editable:  # the Dockerfile follows the steps just saved
            try:
                version.dockerfile = version.render_dockerfile()
            except DockerfileError as error:
                version.dockerfile = f"# cannot be rendered: {error}"
            version.save(update_fields=["dockerfile"])

    def has_delete_permission(self, request, obj=None):
        # A built image may be running on nodes: its record stays.
        return (obj is None or not (obj.image_id or obj.is_running)) and super().has_delete_permission(request, obj)

    def has_build_permission(self, request):
        return request.user.has_perm("images.build_imageversion")

    def has_push_permission(self, request):
        return request.user.has_perm("images.push_imageversion")

    def has_activate_permission(self, request):
        return request.user.has_perm("images.activate_rollout")

    def has_distribute_permission(self, request):
        return request.user.has_perm("images.distribute_rollout")

    def has_promote_permission(self, request):
        return request.user.has_perm(promotion_rules.REQUEST_PERMISSION)

    @admin.action(description="Build selected versions…", permissions=["build"])
    def build(self, request, queryset):
        return actions.confirm_then_queue(self, request, queryset, "build")

    @admin.action(description="Push selected versions to the cluster registry…", permissions=["push"])
    def push(self, request, queryset):
        return actions.confirm_then_queue(self, request, queryset, "push")
