"""A node's address is unique across clusters, no longer only within one.

A database may already hold one machine in two clusters (the pages accepted
it before). Which row is the right one is an operator's call (the other
cluster's fence restarts and audit point at it), so this migration does not
pick: it stops, naming each address and its clusters, and is run again once
the extra rows are deleted on the Nodes page."""
from django.db import migrations, models
from django.db.models import Count


def refuse_machines_in_two_clusters(apps, schema_editor):
    Node = apps.get_model("nodes", "Node")
    shared = (Node.objects.values("address").annotate(n=Count("id")).filter(n__gt=1).values_list("address", flat=True))
    found = []
    for address in sorted(shared):
        clusters = Node.objects.filter(address=address).order_by("cluster__name").values_list("cluster__name", flat=True)
        found.append(f"{address} (clusters {', '.join(clusters)})")
    if found:
        raise RuntimeError(
            "nodes 0017: a machine belongs to one cluster, but these addresses are nodes of more than one: "
            f"{'; '.join(found)}. Delete the extra node rows (or the cluster made on another's machines) in the "
            "admin, then migrate again.")


class Migration(migrations.Migration):

    dependencies = [
        ("nodes", "0016_node_facts_verified_by_rollout"),
    ]

    operations = [
        migrations.RunPython(refuse_machines_in_two_clusters, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="node", name="node_address_unique_in_cluster"),
        migrations.AddConstraint(
            model_name="node",
            constraint=models.UniqueConstraint(fields=("address",), name="node_address_unique",
                                               violation_error_message="This cluster already has a node with this address."),
        ),
    ]
