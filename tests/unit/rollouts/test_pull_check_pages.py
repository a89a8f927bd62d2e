"""Before a rollout every enabled DEA's engine must be able to pull from the
cluster's plain-HTTP registry (as its refreshed facts say): the plan page
lists those that cannot with the setting each needs, and the start is
refused on the server, through the real admin views."""
import html

import pytest
from django.urls import reverse

from images.models import ImageVersion
from images.models.rollout import Rollout
from nodes.models import Cluster, Node
from stackato_dash import queueing

pytestmark = pytest.mark.django_db

TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}
REGISTRY = "10.0.0.11:5000"
DEFAULT = {"IndexConfigs": {"docker.io": {"Name": "docker.io", "Secure": True, "Mirrors": []}},
           "InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8"], "Mirrors": []}
INSECURE = {**DEFAULT, "IndexConfigs": {**DEFAULT["IndexConfigs"],
                                        REGISTRY: {"Name": REGISTRY, "Secure": False, "Mirrors": []}}}
SETTING = f'"insecure-registries": ["{REGISTRY}"] in /etc/docker/daemon.json'
CHANGELIST = "admin:images_imageversion_changelist"


@pytest.fixture
def worker_alive(monkeypatch):
    """The start's worker check passes (no Redis in unit tests); nothing runs."""
    monkeypatch.setattr(queueing, "require_worker", lambda: None)


@pytest.fixture
def cluster():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry=REGISTRY)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], registry_config=DEFAULT, **TRUSTED)
    return cluster


def dea(cluster, address, registry_config, **fields):
    return Node.objects.create(cluster=cluster, address=address, roles=["dea"], registry_config=registry_config,
                               **{**TRUSTED, **fields})


def pushed(cluster, repository="exampleco/newimg"):
    version = ImageVersion.objects.create(cluster=cluster, repository=repository, tag="1.0.1",
                                          from_reference="stackato/app-holophonor:3.0.0")
    ImageVersion.objects.filter(pk=version.pk).update(
        status="pushed", image_id="sha256:" + "1" * 64, registry_reference=f"{REGISTRY}/{repository}:1.0.1",
        manifest_digest="sha256:" + "2" * 64)
    return version


def post(client, version, **data):
    return client.post(reverse(CHANGELIST), {"action": "roll_out", "_selected_action": [version.pk], **data})


START = {"post": "yes", "reason": "monthly", "canaries": "1", "max_in_flight": "1", "failure_threshold": "0",
         "health_wait": "5", "planned_canaries": "1", "planned_max_in_flight": "1"}


def test_the_plan_page_lists_each_dea_that_cannot_pull_with_its_setting(admin_client, cluster):
    dea(cluster, "10.0.0.12", INSECURE)
    dea(cluster, "10.0.0.13", DEFAULT)  # 10.0.0.11 is not loopback: HTTPS only
    dea(cluster, "10.0.0.14", None)  # never refreshed
    dea(cluster, "10.0.0.15", DEFAULT, enabled=False)  # left out of rollouts
    page = html.unescape(post(admin_client, pushed(cluster)).content.decode())
    listing = page.split('id="plan-cannot-pull"', 1)[1].split("</div>", 1)[0]
    assert "10.0.0.13</code>: its engine treats the plain-HTTP registry 10.0.0.11:5000 as secure" in listing
    assert ("10.0.0.14</code>: its engine's registry settings are not known (facts never refreshed, or refreshed "
            "before the console read them): refresh its facts (Nodes > Refresh facts).</li>") in listing
    assert listing.count(SETTING) == 1  # the node never refreshed has no setting to name yet
    assert "10.0.0.12" not in listing and "10.0.0.15" not in listing
    assert 'value="Start"' not in page


def test_the_start_is_refused_on_the_server_while_a_dea_cannot_pull(admin_client, cluster, worker_alive):
    dea(cluster, "10.0.0.12", INSECURE)
    dea(cluster, "10.0.0.13", DEFAULT)
    page = html.unescape(post(admin_client, pushed(cluster), **START).content.decode())
    assert "Not started: 1 enabled DEA node(s) cannot pull" in page
    assert f"10.0.0.13: its engine treats the plain-HTTP registry {REGISTRY} as secure" in page
    assert SETTING in page
    assert not Rollout.objects.exists()


def test_once_every_enabled_dea_can_pull_the_plan_offers_start_and_it_starts(admin_client, cluster, worker_alive):
    dea(cluster, "10.0.0.12", INSECURE)
    dea(cluster, "10.0.0.13", {**DEFAULT, "InsecureRegistryCIDRs": ["10.0.0.0/24"]})
    dea(cluster, "10.0.0.14", DEFAULT, enabled=False)
    version = pushed(cluster)
    page = post(admin_client, version).content.decode()
    assert 'id="plan-cannot-pull"' not in page and 'value="Start"' in page
    response = post(admin_client, version, **START)
    rollout = Rollout.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:images_rollout_change", args=[rollout.pk])
    assert sorted(rollout.steps.values_list("node__address", flat=True)) == ["10.0.0.12", "10.0.0.13"]
