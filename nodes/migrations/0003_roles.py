"""The console's roles as groups: Viewer reads everything, Operator builds,
pushes, distributes and looks after nodes, Release manager activates, rolls
back, undoes and cancels. Users are given a group, never single permissions.

django_rq's only permission ("admin") is not given: its dashboard can delete
and requeue jobs, which is not reading."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ["nodes", "images"]
OPERATOR = ["images.build_imageversion", "images.push_imageversion", "images.distribute_rollout",
            "nodes.refresh_facts", "nodes.import_nodes", "nodes.trust_host_key",
            # To write a version (and its RUN steps) and to add clusters and nodes by hand.
            "images.add_imageversion", "images.change_imageversion", "images.add_runstep", "images.change_runstep",
            "images.delete_runstep", "nodes.add_cluster", "nodes.change_cluster", "nodes.add_node",
            "nodes.change_node"]
RELEASE_MANAGER = ["images.activate_rollout"]


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate (post_migrate); a fresh
    # database has none yet, so create them now. The historical app configs
    # are stubs without models_module, which create_permissions requires.
    for label in APPS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = list(Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith="view_"))
    roles = {"Viewer": view, "Operator": view + _permissions(apps, OPERATOR),
             "Release manager": view + _permissions(apps, RELEASE_MANAGER)}
    for name, permissions in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)  # add, not set: keeps what an admin granted on top


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Viewer", "Operator", "Release manager"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("nodes", "0002_fencerestart_audit_indexes"),
        ("images", "0002_rollout_rolloutstep_and_more"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
