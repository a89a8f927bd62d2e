"""API tokens in the console: each staff user makes their own (the token is
shown once, on the page that answers the POST, never stored or put in a
message, a redirect or a log) and revokes them; a user with the permission to
delete API tokens (an admin) sees and revokes everyone's, never a secret.
Making and revoking are written to the admin's log (LogEntry)."""
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from knox.models import AuthToken

from api.models import ApiToken

MANAGE_ALL = "api.delete_apitoken"  # superusers have it; an admin may grant it

# knox's own admin makes a token for any user and shows it in a message (kept
# in a cookie or the session table until shown): the one below replaces it.
admin.site.unregister(AuthToken)


class NewTokenForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not on the class: the limit is a setting.
        self.fields["days"] = forms.IntegerField(
            label="Valid for (days)", min_value=1, max_value=settings.API_TOKEN_MAX_DAYS,
            initial=min(90, settings.API_TOKEN_MAX_DAYS), help_text="Every token expires; make a new one before then.")


def _console_user(request) -> bool:
    return request.user.is_active and request.user.is_staff


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["label", "user", "created", "expiry", "expired"]
    list_select_related = ["user"]
    ordering = ["-created"]
    actions = ["revoke"]
    fields = ["label", "user", "created", "expiry", "expired"]
    readonly_fields = fields

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if request.user.has_perm(MANAGE_ALL) else tokens.filter(user=request.user)

    def get_list_filter(self, request):
        return ["user"] if request.user.has_perm(MANAGE_ALL) else []

    @admin.display(boolean=True)
    def expired(self, token):
        return token.is_expired

    # Every staff user has their own tokens; get_queryset limits them to those.
    def has_module_permission(self, request):
        return _console_user(request)

    def has_view_permission(self, request, obj=None):
        return _console_user(request) and (obj is None or self._mine_or_managed(request, obj))

    def has_add_permission(self, request):
        return _console_user(request)

    def has_change_permission(self, request, obj=None):
        return False  # a token is made and revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return _console_user(request) and (obj is None or self._mine_or_managed(request, obj))

    @staticmethod
    def _mine_or_managed(request, token) -> bool:
        return token.user_id == request.user.pk or request.user.has_perm(MANAGE_ALL)

    @admin.action(description="Revoke selected API tokens", permissions=["delete"])
    def revoke(self, request, queryset):
        # Django's own two-step delete: a confirmation page, then one LogEntry per token.
        return delete_selected(self, request, queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "revoke" is the same, named for what it does
        return actions

    def add_view(self, request, form_url="", extra_context=None):
        """A token for the user asking (never for someone else: its secret
        would pass through another's hands). The answer to the POST is the
        only place the token ever appears."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewTokenForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "New API token", "max_days": settings.API_TOKEN_MAX_DAYS}
        if request.method == "POST" and form.is_valid():
            row, token = AuthToken.objects.create(user=request.user, expiry=timedelta(days=form.cleaned_data["days"]))
            created = ApiToken.objects.get(pk=row.pk)
            self.log_addition(request, created, [{"added": {"name": "API token", "object": str(created)}}])
            context.update(title="Your new API token", token=token, created=created)
            # The admin's views are never_cache (Cache-Control: no-store): not kept by a browser or proxy.
            return TemplateResponse(request, "admin/api/apitoken/created.html", context)
        return TemplateResponse(request, "admin/api/apitoken/add.html", context)
