""""Trust host key" on the one confirmation page: a row per node with the
key it presents (the node's SSH answer stubbed: the sandbox test in
tests/integration/nodes/test_fleet.py reads real keys), the confirming POST
carries a signed token for each key shown and selects only those nodes; a
node that did not answer is skipped with the reason; nothing is pinned
before the confirming POST, and that POST pins the key shown."""
import re
import subprocess

import pytest
from django.urls import reverse

from nodes import host_keys, ssh
from nodes.models import Cluster, Node

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:nodes_node_changelist"


@pytest.fixture
def key(tmp_path) -> ssh.HostKey:
    path = tmp_path / "host"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    key_type, blob = path.with_suffix(".pub").read_text().split()[:2]
    return ssh.HostKey(key_type, blob)


def test_the_plan_shows_each_key_and_the_confirming_post_pins_it(admin_client, admin_user, key, monkeypatch):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    up = Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    down = Node.objects.create(cluster=cluster, address="10.0.0.13", roles=["dea"])

    def scan(node, user):
        if node.pk == down.pk:
            return host_keys.Presented(node, error="10.0.0.13:22: connection refused")
        return host_keys.Presented(node, key=key, token=host_keys.make_token(node, key, user))
    monkeypatch.setattr(host_keys, "scan", scan)

    response = admin_client.post(reverse(CHANGELIST), {"action": "trust_host_key", "_selected_action": [up.pk, down.pk]})

    assert response.templates[0].name == "admin/confirm_action.html"
    page = response.content.decode()
    assert f"Pin {key.key_type} {key.fingerprint}, which it presents now; pinned now: none." in page
    assert "<strong>Skipped:</strong> 10.0.0.13:22: connection refused" in page
    assert re.findall(r'name="_selected_action" value="(\d+)"', page) == [str(up.pk)]
    assert f'name="key_{down.pk}"' not in page
    assert 'value="Yes, trust these keys"' in page and 'id="worker-check"' not in page
    assert not Node.objects.get(pk=up.pk).is_trusted

    token = re.search(r'name="key_%d" value="([^"]+)"' % up.pk, page).group(1)
    admin_client.post(reverse(CHANGELIST), {"action": "trust_host_key", "_selected_action": [up.pk], "post": "yes",
                                            f"key_{up.pk}": token})
    assert Node.objects.get(pk=up.pk).host_key_fingerprint == key.fingerprint
    assert not Node.objects.get(pk=down.pk).is_trusted


def test_no_key_to_trust_offers_no_button(admin_client, monkeypatch):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    node = Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"])
    monkeypatch.setattr(host_keys, "scan", lambda node, user: host_keys.Presented(node, error="timed out"))
    page = admin_client.post(reverse(CHANGELIST), {"action": "trust_host_key", "_selected_action": [node.pk]})
    assert 'value="Yes, trust these keys"' not in page.content.decode()
