"""On the sandbox: an Operator cannot replace the running image by name with
"Distribute only…", and an option-like image in the Core's config is refused
with a clear error before any docker command sees it."""
import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from images.models import ImageVersion
from images.models.rollout import Rollout
from sandbox import layout
from sandbox.nodeside import config_store
from support import ssh
from support.image_versions import BASE
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)
ROLES = importlib.import_module("nodes.migrations.0003_roles")
CHANGELIST = "admin:images_imageversion_changelist"


@pytest.fixture
def operator(client, django_user_model):
    ROLES.create_roles(apps, None)  # a transactional test flushed the groups the migration made
    from django.contrib.auth.models import Group
    user = django_user_model.objects.create_user("operator", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))
    client.force_login(user)
    return client


def image_ids(sandbox, ref):
    ids = {}
    for entry in layout.deas(sandbox):
        code, out, err = ssh.run(entry, sandbox["client_key"], f"docker image inspect --format '{{{{.Id}}}}' {ref}")
        assert code == 0, err
        ids[entry["name"]] = out.strip()
    return ids


def test_an_operator_cannot_distribute_a_version_named_like_the_running_image(operator, rollout_sandbox, rollout_fleet):
    rollout_fleet.registry = ""  # the seed's small cluster: images are streamed with docker load
    rollout_fleet.save(update_fields=["registry"])
    before = image_ids(rollout_sandbox, BASE)

    # Creating it is refused...
    form = {"cluster": rollout_fleet.pk, "repository": "stackato/app-holophonor", "tag": "3.0.0", "parent": "",
            "from_reference": BASE, "cmd": '["start.sh"]', "release_notes": "", "run_steps-TOTAL_FORMS": "0",
            "run_steps-INITIAL_FORMS": "0", "run_steps-MIN_NUM_FORMS": "0", "run_steps-MAX_NUM_FORMS": "100"}
    page = operator.post(reverse("admin:images_imageversion_add"), form)
    assert page.status_code == 200 and f"is the name of {BASE}, the cluster config" in page.content.decode()
    assert not ImageVersion.objects.exists()

    # ...and one that exists anyway (made before the cluster ran that name) is refused at distribution.
    version = ImageVersion.objects.create(cluster=rollout_fleet, repository="stackato/app-holophonor", tag="3.0.0",
                                          from_reference=BASE, status="built", local=True, engine_reference=BASE,
                                          image_id="sha256:" + "1" * 64)
    response = operator.post(reverse(CHANGELIST), {
        "action": "distribute_only", "_selected_action": [version.pk], "post": "yes", "reason": "hotfix",
        "canaries": "1", "max_in_flight": "100%", "failure_threshold": "0", "health_wait": "1"}, follow=True)
    assert f"is the name of {BASE}" in response.content.decode()
    run_queued_jobs()
    assert not Rollout.objects.exists()
    assert image_ids(rollout_sandbox, BASE) == before


def test_an_option_like_image_in_the_config_is_refused_clearly(admin_client, rollout_sandbox, rollout_fleet):
    conn = config_store.connect(rollout_sandbox)
    config_store.set_value(conn, "fence", "docker/image", "--config=/tmp/evil")
    response = admin_client.post(reverse("admin:images_imageversion_from_active"), {"cluster": rollout_fleet.pk},
                                 follow=True)
    text = response.content.decode()
    assert response.status_code == 200 and "not an image reference" in text and "refusing to use it" in text
    assert not ImageVersion.objects.exists()


def test_a_name_re_pointed_on_a_dea_is_not_in_sync(admin_client, rollout_sandbox, rollout_fleet, settings):
    """After a registry-less rollout, the rolled-out name is re-pointed on one
    DEA by hand (docker tag): the next refresh says so instead of "in sync"."""
    from nodes import jobs
    from nodes.models import Node
    from nodes.models.node import Drift

    core = layout.node(rollout_sandbox, "core")
    settings.BUILD_DOCKER_HOST = core["docker_host"]
    ref = "exampleco/local:2.0.0"
    code, out, err = ssh.run(core, rollout_sandbox["client_key"],
                             f"set -e; cid=$(docker create {BASE} sh); docker commit --change 'CMD [\"start.sh\"]' $cid "
                             f"{ref} >/dev/null; docker rm $cid >/dev/null; docker image inspect --format '{{{{.Id}}}}' {ref}")
    assert code == 0, err
    rollout_fleet.registry = ""
    rollout_fleet.save(update_fields=["registry"])
    version = ImageVersion.objects.create(cluster=rollout_fleet, repository="exampleco/local", tag="2.0.0", from_reference=BASE,
                                          status="built", local=True, engine_reference=ref, image_id=out.strip())
    response = admin_client.post(reverse(CHANGELIST), {
        "action": "roll_out", "_selected_action": [version.pk], "post": "yes", "reason": "release", "canaries": "1",
        "max_in_flight": "100%", "failure_threshold": "0", "health_wait": "1", "auto_rollback": "on"})
    assert response.status_code == 302
    run_queued_jobs()
    rollout = Rollout.objects.get()
    assert rollout.status == "succeeded", rollout.decisions

    dea1, *others = layout.deas(rollout_sandbox)
    code, _, err = ssh.run(dea1, rollout_sandbox["client_key"], f"docker tag {BASE} {ref}")
    assert code == 0, err
    for node in Node.objects.filter(cluster=rollout_fleet):
        jobs.refresh_node_facts(node.pk)
    drift = dict(Node.objects.filter(cluster=rollout_fleet).values_list("address", "drift"))
    assert drift[dea1["address"]] == Drift.IMAGE_DIFFERS
    assert {drift[entry["address"]] for entry in others} == {Drift.IN_SYNC}
