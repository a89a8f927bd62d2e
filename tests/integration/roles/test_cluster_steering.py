"""An Operator may edit a cluster (its name, SSH defaults...) but not what
steers a Release manager's rollouts: kato behaviour, config component and
key, registry, and the governance (protected, approval expiry, maintenance
windows and their timezone). They are read-only on the page and a forged
POST of them changes nothing."""
import datetime

import pytest
from django.urls import reverse

from nodes.models import Cluster, MaintenanceWindow

pytestmark = pytest.mark.django_db

STEERING = {"kato_behaviour": "3.0.1", "config_component": "other", "config_key": "docker/other",
            "registry": "127.0.0.1:5999"}
GOVERNANCE = {"protected": "on", "approval_expiry_minutes": "60", "windows_timezone": "Europe/Berlin"}
# The maintenance windows inline's management form, and one new window (Sunday 23:00 for 3 hours).
NO_WINDOW = {"maintenance_windows-TOTAL_FORMS": "0", "maintenance_windows-INITIAL_FORMS": "0"}
ONE_WINDOW = {"maintenance_windows-TOTAL_FORMS": "1", "maintenance_windows-INITIAL_FORMS": "0",
              "maintenance_windows-0-weekday": "6", "maintenance_windows-0-start": "23:00",
              "maintenance_windows-0-minutes": "180"}


def _form(cluster, **changes):
    return {"name": cluster.name, "core_address": cluster.core_address, "api_endpoint": "", "registry": cluster.registry,
            "kato_behaviour": cluster.kato_behaviour, "config_component": cluster.config_component,
            "config_key": cluster.config_key, "ssh_user": "root", "ssh_port": 22,
            "approval_expiry_minutes": cluster.approval_expiry_minutes, "windows_timezone": cluster.windows_timezone,
            **NO_WINDOW, **changes}


def test_an_operator_cannot_change_what_steers_a_rollout(client, login_as, cluster):
    login_as("Operator")
    url = reverse("admin:nodes_cluster_change", args=[cluster.pk])
    page = client.get(url).content.decode()
    assert 'name="kato_behaviour"' not in page and 'name="registry"' not in page and 'name="name"' in page
    response = client.post(url, _form(cluster, name="prod-eu", ssh_port=2222, **STEERING))
    assert response.status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert (stored.name, stored.ssh_port) == ("prod-eu", 2222)  # the Operator's own fields did change
    assert (stored.kato_behaviour, stored.config_component, stored.config_key, stored.registry) == \
        ("3.0", "fence", "docker/image", "")


def test_a_release_manager_who_may_edit_clusters_can(client, login_as, groups, cluster):
    user = login_as("Operator")
    user.groups.add(groups["Release manager"])
    response = client.post(reverse("admin:nodes_cluster_change", args=[cluster.pk]), _form(cluster, **STEERING))
    assert response.status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert (stored.kato_behaviour, stored.config_component, stored.config_key, stored.registry) == \
        tuple(STEERING.values())


def test_an_operator_cannot_unprotect_a_cluster_or_change_its_windows(client, login_as, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(protected=True)
    login_as("Operator")
    url = reverse("admin:nodes_cluster_change", args=[cluster.pk])
    page = client.get(url).content.decode()
    assert 'name="protected"' not in page and 'name="maintenance_windows-0-weekday"' not in page
    # A forged POST: protection off (an unticked box is absent), a window added.
    response = client.post(url, _form(cluster, approval_expiry_minutes="9999", **ONE_WINDOW))
    assert response.status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert (stored.protected, stored.approval_expiry_minutes) == (True, 240)
    assert not MaintenanceWindow.objects.exists()


def test_a_release_manager_who_may_edit_clusters_sets_protection_and_windows(client, login_as, groups, cluster):
    user = login_as("Operator")
    user.groups.add(groups["Release manager"])
    response = client.post(reverse("admin:nodes_cluster_change", args=[cluster.pk]),
                           _form(cluster, **GOVERNANCE, **ONE_WINDOW))
    assert response.status_code == 302
    stored = Cluster.objects.get(pk=cluster.pk)
    assert (stored.protected, stored.approval_expiry_minutes, stored.windows_timezone) == (True, 60, "Europe/Berlin")
    window = MaintenanceWindow.objects.get(cluster=cluster)
    assert (window.weekday, window.start, window.minutes) == (6, datetime.time(23, 0), 180)
    assert str(window) == "Sunday 23:00 for 180 min"


def test_an_unknown_windows_timezone_is_refused_on_the_page(client, login_as, groups, cluster):
    user = login_as("Operator")
    user.groups.add(groups["Release manager"])
    response = client.post(reverse("admin:nodes_cluster_change", args=[cluster.pk]),
                           _form(cluster, windows_timezone="Mars/Olympus"))
    assert response.status_code == 200
    assert "is not an IANA timezone name" in response.content.decode()
    assert Cluster.objects.get(pk=cluster.pk).windows_timezone == "UTC"
