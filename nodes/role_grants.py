"""Give the role groups (nodes/migrations/0003_roles.py) the permissions of
models added after them, from a later migration: the roles migration ran
before those permissions existed. Adds only (an admin's own grants stay);
a role group an admin deleted is not made again."""
from django.contrib.auth.management import create_permissions


def grant(apps, grants: dict[str, list[str]]) -> None:
    """grants: {"Viewer": ["images.view_rolloutevent", ...], ...}"""
    labels = {name.split(".")[0] for names in grants.values() for name in names}
    for label in labels:
        # As in 0003: a fresh database has no permissions before post_migrate;
        # the historical app config needs models_module set for create_permissions.
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in grants.items():
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, grants: dict[str, list[str]]) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in grants.items():
        for group in Group.objects.filter(name=role):
            for name in names:
                app_label, codename = name.split(".")
                group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label,
                                                                    codename=codename))
