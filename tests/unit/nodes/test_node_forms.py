"""Bad input in the node and cluster forms gets form errors, never a traceback."""
import pytest
from django.urls import reverse

from nodes.models import Cluster, Node

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="prod", core_address="10.0.0.11")


def add_node(client, cluster, **fields):
    data = {"cluster": cluster.pk, "address": "10.0.0.12", "ssh_port": "22", "ssh_user": "root",
            "roles": ["dea"], "enabled": "on"}
    data.update(fields)
    return client.post(reverse("admin:nodes_node_add"), data)


def test_a_good_node_is_saved_untrusted(admin_client, cluster):
    response = add_node(admin_client, cluster)
    assert response.status_code == 302
    node = Node.objects.get(address="10.0.0.12")
    assert node.roles == ["dea"] and not node.is_trusted and node.drift == "host_key_unknown"


@pytest.mark.parametrize("fields, message", [
    ({"address": "10.0.0.300"}, b"Enter a valid IPv4 address"),
    ({"address": "10.0.0.12; reboot"}, b"Enter a valid IPv4 address"),
    ({"address": "::1"}, b"Enter a valid IPv4 address"),
    ({"ssh_port": "0"}, b"greater than or equal to 1"),
    ({"ssh_port": "70000"}, b"less than or equal to 65535"),
    ({"roles": ["dea", "toaster"]}, b"Select a valid choice"),
    ({"ssh_user": "root; id"}, b"not a valid Unix user name"),
])
def test_bad_node_input_is_a_form_error(admin_client, cluster, fields, message):
    response = add_node(admin_client, cluster, **fields)
    assert response.status_code == 200
    assert message in response.content
    assert not Node.objects.exists()


def test_duplicate_address_in_a_cluster_is_a_form_error(admin_client, cluster):
    assert add_node(admin_client, cluster).status_code == 302
    response = add_node(admin_client, cluster)
    assert response.status_code == 200
    assert b"This cluster already has a node with this address." in response.content
    assert Node.objects.count() == 1


def test_cluster_form_checks_registry_and_config_key(admin_client):
    response = admin_client.post(reverse("admin:nodes_cluster_add"), {
        "name": "c", "core_address": "10.0.0.11", "registry": "registry.example.com", "kato_behaviour": "3.0",
        "config_component": "fence", "config_key": "docker/image; rm -rf /", "ssh_user": "root", "ssh_port": "22"})
    assert response.status_code == 200
    assert b"is not host:port" in response.content and b"is not a kato config name" in response.content
    assert not Cluster.objects.exists()


def test_adding_a_cluster_creates_its_core_node_untrusted(admin_client):
    response = admin_client.post(reverse("admin:nodes_cluster_add"), {
        "name": "c", "core_address": "10.0.0.11", "registry": "10.0.0.11:5000", "kato_behaviour": "3.0",
        "config_component": "fence", "config_key": "docker/image", "ssh_user": "root", "ssh_port": "22",
        # Governance (as the page sends them by default): approval expiry, windows' timezone, no window.
        "approval_expiry_minutes": "240", "windows_timezone": "UTC",
        "maintenance_windows-TOTAL_FORMS": "0", "maintenance_windows-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    core = Node.objects.get(address="10.0.0.11")
    assert core.roles == ["primary"] and not core.is_trusted
