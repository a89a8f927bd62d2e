"""What a transactional test's flush takes from the test database and the
next test expects back (tests/conftest.py calls these around each flush):
the content types and permissions (post_migrate) and the role groups with
the permissions the migrations gave them."""
import importlib

ROLES_MIGRATION = importlib.import_module("nodes.migrations.0003_roles")
ROLE_NAMES = ["Viewer", "Operator", "Release manager"]


def restore(alias: str) -> None:
    """What a transactional test's flush took and the next test expects: the
    content types and permissions (post_migrate) and the role groups the
    nodes migration made. One process runs tests in any order under xdist, so
    a plain `db` test may follow a flush; serially pytest-django ran every
    `db` test first and this never showed."""
    # Imported here: models are not importable before pytest-django sets Django up.
    from django.apps import apps as django_apps
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.sql import emit_post_migrate_signal

    ContentType.objects.clear_cache()  # its cached ids died with the flush
    if not ContentType.objects.using(alias).exists():
        emit_post_migrate_signal(verbosity=0, interactive=False, db=alias)
        ContentType.objects.clear_cache()
    if Group.objects.using(alias).filter(name__in=ROLE_NAMES).count() < len(ROLE_NAMES):
        ROLES_MIGRATION.create_roles(django_apps, None)
        # The roles exactly as the migrations left them before the flush: later
        # migrations granted newer models' permissions (nodes/role_grants.py),
        # and create_roles today would grant what they did not.
        for role, permissions in ROLE_PERMISSIONS.get(alias, {}).items():
            Group.objects.using(alias).get(name=role).permissions.set([
                Permission.objects.db_manager(alias).get_by_natural_key(codename, app_label, model)
                for codename, app_label, model in permissions])


ROLE_PERMISSIONS: dict[str, dict] = {}  # alias -> role -> natural keys of its permissions, before the first flush


def remember_role_permissions(alias: str) -> None:
    from django.contrib.auth.models import Group  # after pytest-django set Django up

    if alias not in ROLE_PERMISSIONS:
        ROLE_PERMISSIONS[alias] = {
            group.name: [permission.natural_key() for permission in group.permissions.select_related("content_type")]
            for group in Group.objects.using(alias).filter(name__in=ROLE_NAMES)}
