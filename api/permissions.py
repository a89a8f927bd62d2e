"""The console's roles, over the API: a token acts as its user, who must be
an active staff user (as to log in to the console) holding the permission
the console asks for the same operation (the role groups of
nodes/migrations/0003_roles.py carry them). Each view names them per action
in `permissions`; any one of them suffices, as in the admin."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, MethodNotAllowed
from rest_framework.permissions import BasePermission

from api import refusal


class ConsoleRole(BasePermission):
    message = "This token's user may not use the console (not an active staff user)."

    def has_permission(self, request, view) -> bool:
        _within_maximum_life(request.auth)
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        needed = view.required_permissions(request)
        if not needed:
            if getattr(view, "action", None) in (None, "metadata"):
                # A method this URL does not have (DELETE, PUT, OPTIONS): say so, as DRF would after us.
                raise MethodNotAllowed(request.method)
            # An operation someone forgot to list: closed to all, not open to all.
            self.message = "Nobody may do this through the API: no permission is listed for it."
            return False
        if any(user.has_perm(permission) for permission in needed):
            return True
        # The words `manage.py` uses for the same refusal (images/cli/access.py).
        self.message = f"{user.get_username()} may not do this: it needs the permission {' or '.join(needed)}."
        return False


def _within_maximum_life(token) -> None:
    """knox checks the expiry the token was made with; this holds every token
    to API_TOKEN_MAX_DAYS as it is now (lowered after a leak or a policy
    change, it shortens the tokens already made; a token made without an
    expiry, from a shell, lives no longer). 401, as an expired token."""
    created = getattr(token, "created", None)
    if created is not None and created + timedelta(days=settings.API_TOKEN_MAX_DAYS) <= timezone.now():
        raise AuthenticationFailed(f"This token was made more than {settings.API_TOKEN_MAX_DAYS} days ago "
                                   "(API_TOKEN_MAX_DAYS): make a new one in the console (API tokens).")


class RolePermissions:
    """Mixin for the API's views: `permissions` maps a viewset action to the
    permissions that allow it. (Every API view has it, so it also names the
    API's exception handler: each refusal is {"detail": ...}.)"""
    permissions: dict[str, tuple[str, ...]] = {}

    def get_exception_handler(self):
        return refusal.exception_handler

    def required_permissions(self, request) -> tuple[str, ...]:
        # An action nobody listed is allowed to nobody, not even a superuser.
        return self.permissions.get(self.action, ())
