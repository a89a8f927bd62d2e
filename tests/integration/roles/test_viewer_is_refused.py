"""A Viewer's hand-made POST to every fleet-changing action is refused and
changes nothing: no row, no job in Redis. Uses the real Redis and a
registered worker, so a refusal is never just "no worker"."""
import pytest
from django.contrib import messages
from django.core import signing
from django.forms.models import model_to_dict
from django.urls import reverse

from images.models import ImageVersion, Promotion, Rollout
from nodes import host_keys
from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db

CHANGELISTS = ["nodes_cluster", "nodes_node", "nodes_fencerestart", "images_imageversion", "images_rollout"]
FLEET_ACTIONS = ["build", "push", "roll_out", "roll_back_to", "refresh_facts", "import_nodes", "trust_host_key",
                 "cancel", "undo", "promote"]


def snapshot():
    return {model.__name__: sorted((row.pk, repr(model_to_dict(row))) for row in model.objects.all())
            for model in (Cluster, Node, ImageVersion, Rollout, FenceRestart, Promotion)}


@pytest.fixture
def viewer(login_as, worker_alive, cluster, draft, built, rollout):
    return login_as("Viewer")


def trust_token(node):
    # A valid token, as the confirmation page would sign it: still refused.
    return signing.dumps({"node": node.pk, "type": "ssh-ed25519", "key": "AAAAforged"}, salt=host_keys._SALT)


def hand_made_posts(cluster, draft, built, rollout):
    node = cluster.nodes.get(address="10.0.0.12")
    confirmed = {"post": "yes"}
    yield "nodes_node", "trust_host_key", [node.pk], {}
    yield "nodes_node", "trust_host_key", [node.pk], {**confirmed, f"key_{node.pk}": trust_token(node)}
    yield "nodes_node", "refresh_facts", [node.pk], confirmed
    for extra in ({}, confirmed):
        yield "nodes_cluster", "refresh_facts", [cluster.pk], extra
        yield "nodes_cluster", "import_nodes", [cluster.pk], extra
        yield "images_imageversion", "build", [draft.pk], extra
        yield "images_imageversion", "push", [built.pk], extra
    strategy = {**confirmed, "reason": "x", "canaries": "1", "max_in_flight": "1", "failure_threshold": "0",
                "health_wait": "0", "auto_rollback": "on"}
    yield "images_imageversion", "roll_out", [built.pk], strategy
    yield "images_imageversion", "roll_back_to", [built.pk], strategy
    yield "images_imageversion", "promote", [built.pk], {}
    yield "images_imageversion", "promote", [built.pk], {**confirmed, "choice": str(cluster.pk)}
    yield "images_rollout", "cancel", [rollout.pk], confirmed
    yield "images_rollout", "undo", [rollout.pk], strategy


def test_a_viewer_reads_every_changelist_and_is_offered_no_fleet_action(client, viewer):
    for name in CHANGELISTS:
        page = client.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200, name
        content = page.content.decode()
        assert not [action for action in FLEET_ACTIONS if f'value="{action}"' in content], name
    versions = client.get(reverse("admin:images_imageversion_changelist")).content.decode()
    assert "New version from active image" not in versions
    assert "provision" not in client.get(reverse("admin:images_imageversion_registry_index")).content.decode().lower()


def test_every_hand_made_action_post_is_refused_and_changes_nothing(client, viewer, queue, cluster, draft, built,
                                                                    rollout, django_capture_on_commit_callbacks):
    before = snapshot()
    for changelist, action, selected, extra in hand_made_posts(cluster, draft, built, rollout):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(reverse(f"admin:{changelist}_changelist"),
                                   {"action": action, "_selected_action": selected, **extra}, follow=True)
        # Django runs no action the user lacks: the changelist comes back (with
        # "No action selected." when the user has other actions there).
        assert response.status_code == 200 and response.templates[0].name.endswith("change_list.html"), (action, extra)
        assert not [m for m in response.context["messages"] if m.level == messages.SUCCESS], (action, extra)
        assert not callbacks and queue.count == 0, (action, extra)
        assert snapshot() == before, (action, extra)


def test_the_pages_beside_the_changelists_refuse_a_viewer(client, viewer, cluster, queue):
    before = snapshot()
    for url, data in [
        (reverse("admin:images_imageversion_from_active"), {"cluster": cluster.pk}),
        (reverse("admin:images_imageversion_provision_registry"), {"cluster": cluster.pk}),
        (reverse("admin:nodes_cluster_change", args=[cluster.pk]), {"name": "renamed", "core_address": "10.0.0.99"}),
        (reverse("admin:nodes_cluster_add"), {"name": "new", "core_address": "10.0.1.11"}),
        (reverse("admin:images_imageversion_add"), {"cluster": cluster.pk, "repository": "a/b", "tag": "9.9.9"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before and queue.count == 0
