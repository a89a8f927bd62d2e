"""A machine belongs to one cluster, on the sandbox: a second cluster on the
sandbox's Core is refused on the cluster page, and an import through the real
Core (sshd, kato node list) reports a listed DEA another cluster holds instead
of importing it, in the words the cluster list shows."""
from pathlib import Path

import pytest
from django.urls import reverse

from nodes.models import Cluster, Node
from sandbox import layout
from sandbox.procs import SandboxError
from sandbox.register import register
from support.cluster_form import cluster_form
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_cluster_cannot_claim_the_sandbox(admin_client, sandbox, fleet, worker_alive):
    core = layout.node(sandbox, "core")["address"]
    response = admin_client.post(reverse("admin:nodes_cluster_add"),
                                 cluster_form(Cluster(name="x", core_address=core, ssh_port=2222), protected=False))
    assert f"{core} is already a node of cluster {fleet.name}" in response.content.decode()
    assert list(Cluster.objects.values_list("name", flat=True)) == [fleet.name]
    # `manage.py sandbox register --name again` would be the same fleet twice.
    with pytest.raises(SandboxError, match=f"cannot register the sandbox as again: {core} is already a node of "
                                           f"cluster {fleet.name}"):
        register(Path(sandbox["state_dir"]), "again")
    assert list(Cluster.objects.values_list("name", flat=True)) == [fleet.name]

    # One DEA is another cluster's (as if it had been added there first): the
    # sandbox's kato still lists it, and the import leaves it where it is.
    dea = layout.node(sandbox, "dea2")["address"]
    other = Cluster.objects.create(name="other", core_address="127.0.0.99")
    Node.objects.filter(cluster=fleet, address=dea).update(cluster=other)
    admin_client.post(reverse("admin:nodes_cluster_changelist"),
                      {"action": "import_nodes", "_selected_action": [fleet.pk], "post": "yes"})
    run_queued_jobs()
    fleet.refresh_from_db()
    assert fleet.last_import_error == f"Not imported, a machine belongs to one cluster: {dea} (a node of cluster other)."
    assert Node.objects.get(address=dea).cluster == other
    assert set(fleet.nodes.values_list("address", flat=True)) == {n["address"] for n in sandbox["nodes"]} - {dea}
    listing = admin_client.get(reverse("admin:nodes_cluster_changelist")).content.decode()
    assert f"{dea} (a node of cluster other)" in listing
