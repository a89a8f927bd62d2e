"""The "Trust host key" confirmation token pins only the key shown, to the
node at the address and port it was read from, for the user who saw it, and
once: a replay after use is refused."""
import subprocess

import pytest
from django.urls import reverse

from nodes import host_keys, ssh
from nodes.models import Cluster, Node

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:nodes_node_changelist"


def _key(tmp_path, name) -> ssh.HostKey:
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    key_type, blob = path.with_suffix(".pub").read_text().split()[:2]
    return ssh.HostKey(key_type, blob)


@pytest.fixture
def node():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    return Node.objects.create(cluster=cluster, address="10.0.0.12", ssh_port=22, roles=["dea"])


def _confirm(client, node, token):
    return client.post(reverse(CHANGELIST), {"action": "trust_host_key", "_selected_action": [node.pk], "post": "yes",
                                             f"key_{node.pk}": token}, follow=True)


def test_a_token_pins_once_and_a_replay_is_refused(admin_client, admin_user, node, tmp_path):
    first, other = _key(tmp_path, "first"), _key(tmp_path, "other")
    token = host_keys.make_token(node, first, admin_user)
    stale = host_keys.make_token(node, other, admin_user)  # shown on a second page before the first pin
    assert "pinned" in _confirm(admin_client, node, token).content.decode()
    pinned = Node.objects.get(pk=node.pk)
    assert pinned.host_key_fingerprint == first.fingerprint
    for replay in (token, stale):
        page = _confirm(admin_client, node, replay).content.decode()
        assert "used already" in page
        again = Node.objects.get(pk=node.pk)
        assert (again.host_key_fingerprint, again.host_key_trusted_at) == (first.fingerprint, pinned.host_key_trusted_at)


def test_a_token_is_bound_to_address_port_and_user(admin_user, django_user_model, node, tmp_path):
    key = _key(tmp_path, "k")
    token = host_keys.make_token(node, key, admin_user)
    assert host_keys.key_from_token(node, token, admin_user) == key
    other_user = django_user_model.objects.create_user("bob")
    with pytest.raises(host_keys.TokenRefused):
        host_keys.key_from_token(node, token, other_user)
    node.address = "10.0.0.13"
    with pytest.raises(host_keys.TokenRefused):
        host_keys.key_from_token(node, token, admin_user)
    node.address, node.ssh_port = "10.0.0.12", 2222
    with pytest.raises(host_keys.TokenRefused):
        host_keys.key_from_token(node, token, admin_user)


def test_a_token_for_another_user_pins_nothing(client, django_user_model, admin_user, node, tmp_path):
    operator = django_user_model.objects.create_superuser("operator", password="pw")
    client.force_login(operator)
    page = _confirm(client, node, host_keys.make_token(node, _key(tmp_path, "k"), admin_user)).content.decode()
    assert "nothing was pinned" in page and not Node.objects.get(pk=node.pk).is_trusted
