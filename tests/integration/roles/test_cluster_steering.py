"""An Operator may edit a cluster (its name, SSH defaults...) but not what
steers a Release manager's rollouts: kato behaviour, config component and
key, registry. They are read-only on the page and a forged POST of them
changes nothing."""
import pytest
from django.urls import reverse

from nodes.models import Cluster

pytestmark = pytest.mark.django_db

STEERING = {"kato_behaviour": "3.0.1", "config_component": "other", "config_key": "docker/other",
            "registry": "127.0.0.1:5999"}


def _form(cluster, **changes):
    return {"name": cluster.name, "core_address": cluster.core_address, "api_endpoint": "", "registry": cluster.registry,
            "kato_behaviour": cluster.kato_behaviour, "config_component": cluster.config_component,
            "config_key": cluster.config_key, "ssh_user": "root", "ssh_port": 22, **changes}


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
