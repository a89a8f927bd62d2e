"""Who a command acts as: the --user named user, held to the same checks as
in the console (an active staff account with the action's permission), and
recorded as the requester exactly as the admin records request.user."""
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def acting_user(username: str, *permissions: str):
    """The user, or CommandError saying why not. permissions: any one suffices
    (as the admin offers an action to a user with any of its permissions)."""
    if not username:
        raise CommandError("Name the user to act as with --user: the audit records who asked.")
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise CommandError(f"No active user named {username!r}.")
    if not user.is_staff:
        raise CommandError(f"{username} may not use the console (not staff).")
    if permissions and not any(user.has_perm(permission) for permission in permissions):
        raise CommandError(f"{username} may not do this: it needs the permission {' or '.join(permissions)}.")
    return user
