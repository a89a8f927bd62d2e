"""Lifting a cluster's protection takes two Release managers (nodes/protection_lift.py),
through the real cluster change page, each user logged in with the real role groups:
one untick only requests it, the requester cannot confirm it, a second Release
manager lifts it, an expired request counts for nothing, and turning protection
on is one person's act. An Operator cannot touch it. No node is connected to."""
import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import RolloutStatus
from images.rollouts import governance
from nodes.models import Cluster
from nodes.protection_lift import at
from support.cluster_form import cluster_form

pytestmark = pytest.mark.django_db

ROLES = importlib.import_module("nodes.migrations.0003_roles")
STAYS_ON = "protection stays on until a second Release manager confirms the lift"


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="prod", core_address="10.0.0.11", protected=True, approval_expiry_minutes=90)


def _client(django_user_model, name, *roles, **flags) -> Client:
    ROLES.create_roles(apps, None)  # idempotent: the groups the roles migration makes
    user = django_user_model.objects.create_user(name, password="x", is_staff=True, **flags)
    user.groups.add(*Group.objects.filter(name__in=roles))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def anna(django_user_model):
    # A Release manager who may edit clusters (change_cluster comes with the Operator role).
    return _client(django_user_model, "rm-anna", "Operator", "Release manager")


@pytest.fixture
def ben(django_user_model):
    return _client(django_user_model, "rm-ben", "Operator", "Release manager")


def untick(client, cluster, **changes):
    return client.post(reverse("admin:nodes_cluster_change", args=[cluster.pk]),
                       cluster_form(cluster, protected=False, **changes), follow=True)


def history(cluster) -> list[tuple[str, str]]:
    entries = LogEntry.objects.filter(object_id=str(cluster.pk), content_type__model="cluster").order_by("id")
    return [(entry.user.username, entry.get_change_message()) for entry in entries]


def test_one_release_managers_untick_only_requests_the_lift(anna, cluster):
    page = untick(anna, cluster).content.decode()
    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.protected
    assert stored.protection_lift_requested_by_username == "rm-anna"
    assert stored.protection_lift_expires_at - stored.protection_lift_requested_at == timedelta(minutes=90)
    assert f"{STAYS_ON} (by unticking Protected and saving); the request expires at " \
           f"{at(stored.protection_lift_expires_at)}." in page
    # A rollout asked for now still waits for a second Release manager.
    assert governance.initial_fields(stored)["status"] == RolloutStatus.AWAITING_APPROVAL
    change_page = anna.get(reverse("admin:nodes_cluster_change", args=[cluster.pk])).content.decode()
    assert "Requested by rm-anna at" in change_page
    assert re.search(r'<input type="checkbox" name="protected"[^>]* checked>', change_page)  # still ticked
    [(who, what)] = history(cluster)
    assert who == "rm-anna" and what.startswith("Protection lift requested by rm-anna: protection stays on")


def test_the_requester_cannot_confirm_their_own_request(anna, cluster):
    untick(anna, cluster)
    response = untick(anna, cluster, ssh_port="2222")
    assert response.status_code == 200 and response.redirect_chain == []  # the form again, with the refusal
    assert "a second, different Release manager must confirm it before" in response.content.decode()
    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.protected and stored.ssh_port == 22  # nothing of that post was saved
    assert stored.protection_lift_requested_by_username == "rm-anna"
    refused = history(cluster)[-1]
    assert refused[0] == "rm-anna" and refused[1].startswith("Refused: rm-anna tried to confirm their own request")


def test_a_superuser_is_not_their_own_second_either(django_user_model, cluster):
    root = _client(django_user_model, "root", is_superuser=True)
    untick(root, cluster)
    assert "a second, different Release manager must confirm it" in untick(root, cluster).content.decode()
    assert Cluster.objects.get(pk=cluster.pk).protected


def test_a_second_release_manager_lifts_it(anna, ben, cluster, django_user_model):
    untick(anna, cluster)
    page = untick(ben, cluster, ssh_port="2222").content.decode()
    stored = Cluster.objects.get(pk=cluster.pk)
    assert not stored.protected and stored.ssh_port == 2222
    assert (stored.protection_lift_requested_by, stored.protection_lift_expires_at) == (None, None)
    assert "Protection lifted: requested by rm-anna at " in page and ", confirmed by rm-ben." in page
    assert governance.initial_fields(stored) == {}  # a rollout now starts at once
    (requester, _), (confirmer, lifted) = history(cluster)
    assert (requester, confirmer) == ("rm-anna", "rm-ben")
    assert lifted.startswith("Protection lifted: requested by rm-anna") and "SSH port" in lifted
    # An auditor (the Viewer role) reads both on the cluster's History page.
    auditor = _client(django_user_model, "auditor", "Viewer")
    page = auditor.get(reverse("admin:nodes_cluster_history", args=[cluster.pk])).content.decode()
    assert "Protection lift requested by rm-anna" in page and "confirmed by rm-ben" in page


def test_an_expired_request_does_nothing(anna, ben, cluster):
    untick(anna, cluster)
    Cluster.objects.filter(pk=cluster.pk).update(protection_lift_expires_at=timezone.now() - timedelta(seconds=1))
    page = untick(ben, cluster).content.decode()
    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.protected and stored.protection_lift_requested_by_username == "rm-ben"  # a new request
    assert "The earlier request by rm-anna expired unconfirmed" in page and STAYS_ON in page
    untick(anna, cluster)  # anna is the second person to ben's request
    assert not Cluster.objects.get(pk=cluster.pk).protected


def test_turning_protection_on_is_one_step(anna, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(protected=False)
    cluster.refresh_from_db()
    response = anna.post(reverse("admin:nodes_cluster_change", args=[cluster.pk]),
                         cluster_form(cluster, protected=True))
    assert response.status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.protected and stored.protection_lift_requested_at is None


def test_an_operator_without_the_release_manager_role_cannot_request_or_lift(anna, django_user_model, cluster):
    untick(anna, cluster)
    operator = _client(django_user_model, "op-olga", "Operator")
    url = reverse("admin:nodes_cluster_change", args=[cluster.pk])
    assert 'name="protected"' not in operator.get(url).content.decode()
    # A forged post: Protected absent (unticked), as a second person's confirmation would be.
    response = operator.post(url, cluster_form(cluster, protected=False))
    assert response.status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.protected and stored.protection_lift_requested_by_username == "rm-anna"
    assert [who for who, what in history(cluster) if "rotection" in what] == ["rm-anna"]


def test_a_page_saved_from_before_the_lift_does_not_bring_the_request_back(anna, ben, cluster, admin_user, rf):
    untick(anna, cluster)
    loaded = Cluster.objects.get(pk=cluster.pk)  # a third page, opened while anna's request was pending
    untick(ben, cluster)  # lifted meanwhile
    # That page is saved now (its Protected still ticked: ticking is one person's act).
    request = rf.post("/")
    request.user = admin_user
    cluster_admin = admin.site._registry[Cluster]
    form = cluster_admin.get_form(request, loaded, change=True)(
        cluster_form(loaded, protected=True, ssh_port="2200"), instance=loaded)
    assert form.is_valid(), form.errors
    cluster_admin.save_model(request, cluster_admin.save_form(request, form, change=True), form, change=True)
    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.protected and stored.ssh_port == 2200
    assert stored.protection_lift_requested_by_username == "" and stored.protection_lift_expires_at is None


def test_no_second_cluster_on_a_protected_clusters_core_node(anna, cluster):
    # The way around an untick: a new, unprotected cluster on the same Core node, or another one moved onto it.
    other = Cluster.objects.create(name="staging", core_address="10.0.0.21")
    response = anna.post(reverse("admin:nodes_cluster_add"),
                         cluster_form(Cluster(name="prod-shadow", core_address=cluster.core_address), protected=False))
    assert response.status_code == 200
    assert "10.0.0.11 is the Core node of prod, which is protected" in response.content.decode()
    response = anna.post(reverse("admin:nodes_cluster_change", args=[other.pk]),
                         cluster_form(other, protected=False, core_address=cluster.core_address))
    assert "10.0.0.11 is the Core node of prod, which is protected" in response.content.decode()
    assert list(Cluster.objects.values_list("name", "core_address")) == [("prod", "10.0.0.11"),
                                                                          ("staging", "10.0.0.21")]
