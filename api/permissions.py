"""The console's roles, over the API: a token acts as its user, who must be
an active staff user (as to log in to the console) holding the permission
the console asks for the same operation (the role groups of
nodes/migrations/0003_roles.py carry them). Each view names them per action
in `permissions`; any one of them suffices, as in the admin."""
from rest_framework.permissions import BasePermission

from api import refusal


class ConsoleRole(BasePermission):
    message = "This token's user may not use the console (not an active staff user)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        needed = view.required_permissions(request)
        if any(user.has_perm(permission) for permission in needed):
            return True
        # The words `manage.py` uses for the same refusal (images/cli/access.py).
        self.message = f"{user.get_username()} may not do this: it needs the permission {' or '.join(needed)}."
        return False


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
