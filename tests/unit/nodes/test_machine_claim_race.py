"""Two Operators add clusters (or nodes) on one address at the same instant:
both forms pass the claim check (nodes/machine_claims.py), the unique
Node.address lets one row in. The other's page shows the refusal the check
gives (the cluster that holds it), no error page, and nothing of its save is
left: no cluster without its Core node (nodes/admin/address_race.py).

The race is forced deterministically: the other cluster and its Core node
are already in the database, and the form's checks answer as they did a
moment before they were (the claim check once; later reads see them, as
after a commit)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from nodes import machine_claims
from nodes.models import Cluster, Node
from support.cluster_form import cluster_form

pytestmark = pytest.mark.django_db

TAKEN = "127.0.0.31"
REFUSAL = f"{TAKEN} is already a node of cluster first: a machine belongs to one cluster"


@pytest.fixture
def first():
    """The cluster the other Operator saved first, with its Core node."""
    cluster = Cluster.objects.create(name="first", core_address=TAKEN)
    Node.objects.create(cluster=cluster, address=TAKEN, roles=["primary"])
    return cluster


@pytest.fixture
def check_ran_before_the_other_commit(monkeypatch):
    """The form's claim check finds the address free (the other save had not
    committed when it read); every later read sees the other cluster."""
    real = machine_claims.owner_elsewhere
    calls = []

    def owner_elsewhere(address, cluster, node=None):
        calls.append(address)
        return None if len(calls) == 1 else real(address, cluster, node)
    monkeypatch.setattr(machine_claims, "owner_elsewhere", owner_elsewhere)
    return calls


def assert_refused_on_the_form(response):
    page = response.content.decode()
    assert response.status_code == 200
    assert REFUSAL in page and "errorlist" in page
    assert "Traceback" not in page and "IntegrityError" not in page


def test_the_second_cluster_added_on_one_address_gets_the_forms_refusal_and_is_not_saved(
        operator, first, check_ran_before_the_other_commit):
    response = operator.post(reverse("admin:nodes_cluster_add"),
                             cluster_form(Cluster(name="second", core_address=TAKEN), protected=False))
    assert_refused_on_the_form(response)
    assert check_ran_before_the_other_commit[0] == TAKEN  # the race happened: the check let it through
    assert 'name="name" value="second"' in response.content.decode()  # the form as typed, to correct
    # Nothing half-written: no "second" cluster (with or without a Core node), "first" as it was.
    assert list(Cluster.objects.values_list("name", flat=True)) == ["first"]
    assert list(Node.objects.values_list("cluster__name", "address")) == [("first", TAKEN)]
    assert not LogEntry.objects.exists()  # no "added" in the admin's history either


def test_a_cluster_moved_onto_the_address_at_the_same_instant_keeps_its_own(operator, first,
                                                                           check_ran_before_the_other_commit):
    staging = Cluster.objects.create(name="staging", core_address="127.0.0.41")
    Node.objects.create(cluster=staging, address="127.0.0.41", roles=["primary"])
    response = operator.post(reverse("admin:nodes_cluster_change", args=[staging.pk]),
                             cluster_form(staging, protected=False, core_address=TAKEN, ssh_user="stackato"))
    assert_refused_on_the_form(response)
    staging.refresh_from_db()
    assert (staging.core_address, staging.ssh_user) == ("127.0.0.41", "root")  # no field of the post saved
    assert sorted(Node.objects.values_list("cluster__name", "address")) == [("first", TAKEN),
                                                                            ("staging", "127.0.0.41")]


@pytest.fixture
def node_checks_ran_before_the_other_commit(monkeypatch, check_ran_before_the_other_commit):
    """The node form also reads the unique address (the model's constraint, full_clean) before saving."""
    monkeypatch.setattr(Node, "validate_constraints", lambda node, exclude=None: None)
    return check_ran_before_the_other_commit


def add_node(client, cluster, address):
    return client.post(reverse("admin:nodes_node_add"), {
        "cluster": cluster.pk, "address": address, "ssh_port": "2222", "ssh_user": "root", "roles": ["dea"],
        "enabled": "on"})


def test_a_node_added_on_the_address_another_cluster_just_took_gets_the_refusal(operator, first,
                                                                                node_checks_ran_before_the_other_commit):
    staging = Cluster.objects.create(name="staging", core_address="127.0.0.41")
    response = add_node(operator, staging, TAKEN)
    assert_refused_on_the_form(response)
    assert node_checks_ran_before_the_other_commit == [TAKEN]
    assert list(Node.objects.values_list("cluster__name", "address")) == [("first", TAKEN)]
    assert not LogEntry.objects.exists()


def test_a_node_added_twice_to_one_cluster_at_once_is_said_so(operator, first, node_checks_ran_before_the_other_commit):
    page = add_node(operator, first, TAKEN).content.decode()
    assert f"{TAKEN} is already a node of cluster first: it was added a moment ago." in page
    assert "Traceback" not in page and Node.objects.count() == 1
