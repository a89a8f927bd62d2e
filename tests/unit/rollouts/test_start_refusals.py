"""What an operator reads when a rollout, an undo, a build or a push is
refused: the exact message on the admin page, with a worker alive (real
Redis) so that only the cause under test can refuse, and nothing queued."""
import html

import pytest
from django.urls import reverse

from images.models import ImageVersion, Status
from images.models.rollout import Rollout
from nodes.models import Cluster, Node
from support.image_versions import draft_version

pytestmark = pytest.mark.django_db

REGISTRY = "10.0.0.11:5000"
BASE = "stackato/app-holophonor:3.0.0"
TRUSTED = {"host_key_type": "ssh-ed25519", "host_key": "AAAA", "reachable": True}
# The DEA's engine may pull from the plain-HTTP registry (images/rollouts/pull_check.py).
PULLS = {"IndexConfigs": {REGISTRY: {"Name": REGISTRY, "Secure": False, "Mirrors": []}},
         "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []}
START = {"post": "yes", "reason": "monthly", "canaries": "1", "max_in_flight": "1", "failure_threshold": "0",
         "health_wait": "5"}
SHA = "sha256:" + "1" * 64


@pytest.fixture
def fleet_in_db():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry=REGISTRY)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], registry_config=PULLS,
                        desired_image=BASE, **TRUSTED)
    return cluster


def pushed(cluster, tag="1.0.1"):
    return draft_version(cluster, tag, status=Status.PUSHED, image_id=SHA, manifest_digest="sha256:" + "2" * 64,
                         registry_reference=f"{REGISTRY}/exampleco/newimg:{tag}")


def act(client, action, obj, changelist="admin:images_imageversion_changelist", **data) -> str:
    response = client.post(reverse(changelist), {"action": action, "_selected_action": [obj.pk], **data}, follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def refused(page: str) -> list[str]:
    """The error messages the admin shows (Django's admin capitalises the
    first letter of each: "Exampleco/newimg:1.0.0 is ...")."""
    return [item.split(">", 1)[1].split("</li>", 1)[0].strip()
            for item in page.split('<li class="error"')[1:]]


def test_a_rollout_without_a_reason_is_refused(admin_client, fleet_in_db, worker):
    # The form requires it too; start() is the last line for scripts and the shell.
    from images.rollouts import start
    with pytest.raises(start.RolloutRefused) as error:
        start.rollout_version(pushed(fleet_in_db), user=None, reason="  ")
    assert str(error.value) == "A reason is required: it goes into the audit history of every fence restart."


def test_a_rollout_through_an_untrusted_core_is_refused(admin_client, fleet_in_db, worker):
    Node.objects.filter(address="10.0.0.11").update(host_key="")
    page = act(admin_client, "roll_out", pushed(fleet_in_db), **START)
    assert refused(page) == ["The Core node 10.0.0.11 is not trusted: the config is set through it."]
    assert not Rollout.objects.exists() and worker.count == 0


def test_a_rollout_with_no_worker_alive_is_refused(admin_client, fleet_in_db, clean_queue):
    page = act(admin_client, "roll_out", pushed(fleet_in_db), **START)
    assert refused(page) == ["No RQ worker is running for the 'default' queue, so nothing was queued. "
                             "Start one with `manage.py rqworker-pool` (README: Running the workers)."]
    assert not Rollout.objects.exists()


def test_a_rollout_with_no_dea_is_refused(admin_client, fleet_in_db, worker):
    Node.objects.filter(address="10.0.0.12").delete()
    page = act(admin_client, "roll_out", pushed(fleet_in_db), **START)
    assert refused(page) == ["No DEA node can take part (the cluster has no DEA node)."]
    assert not Rollout.objects.exists()


def test_a_version_not_pushed_is_refused(admin_client, fleet_in_db, worker):
    built = draft_version(fleet_in_db, "1.0.2", status=Status.BUILT, image_id=SHA,
                          engine_reference="exampleco/newimg:1.0.2")
    page = act(admin_client, "roll_out", built, **START)
    assert refused(page) == ["Exampleco/newimg:1.0.2 is built but not pushed yet: push it to the cluster registry "
                             "first."]
    draft = draft_version(fleet_in_db, "1.0.3")
    page = act(admin_client, "roll_out", draft, **START)
    assert refused(page) == ["Exampleco/newimg:1.0.3 is draft: only a built (and pushed) version can be rolled out."]
    assert not Rollout.objects.exists()


def _rollout(cluster, **fields):
    return Rollout.objects.create(cluster=cluster, target_image=f"{REGISTRY}/exampleco/newimg:1.0.1",
                                  target_pull=f"{REGISTRY}/exampleco/newimg:1.0.1", requested_by_username="rm",
                                  reason="release", **fields)


def test_undo_of_an_unfinished_or_blind_rollout_is_refused(admin_client, fleet_in_db, worker):
    running = _rollout(fleet_in_db, status="activating", previous_image=BASE)
    page = act(admin_client, "undo", running, changelist="admin:images_rollout_changelist", **START)
    assert refused(page) == ["This rollout has not finished: cancel it first."]
    running.status = "succeeded"
    running.previous_image = ""
    running.save(update_fields=["status", "previous_image"])
    page = act(admin_client, "undo", running, changelist="admin:images_rollout_changelist", **START)
    assert refused(page) == ["This rollout never read the image it replaced, so there is nothing to go back to."]
    assert Rollout.objects.count() == 1


@pytest.mark.parametrize("action, fields, message", [
    ("build", {"status": Status.BUILDING}, "Exampleco/newimg:1.0.0 is building: wait for it to finish."),
    ("build", {"status": Status.BUILT, "image_id": SHA},
     "Exampleco/newimg:1.0.0 is already built (built): a tag is built once and never rebuilt. "
     "Create a new version with a new tag."),
    ("push", {}, "Exampleco/newimg:1.0.0 is not built yet: build it first."),
    ("push", {"status": Status.PUSHED, "image_id": SHA, "manifest_digest": "sha256:" + "2" * 64,
              "registry_reference": f"{REGISTRY}/exampleco/newimg:1.0.0"},
     f"Exampleco/newimg:1.0.0 is already pushed as {REGISTRY}/exampleco/newimg:1.0.0@sha256:{'2' * 64}: "
     "a tag is pushed once and never re-pushed."),
], ids=["build-running", "build-built", "push-not-built", "push-pushed"])
def test_build_and_push_refusals_say_why(admin_client, fleet_in_db, worker, action, fields, message):
    version = draft_version(fleet_in_db, "1.0.0", **fields)
    page = act(admin_client, action, version, post="yes")
    assert refused(page) == [message]
    assert ImageVersion.objects.get(pk=version.pk).status == version.status and worker.count == 0


def test_a_push_to_a_cluster_without_registry_says_it_stays_local(admin_client, fleet_in_db, worker):
    Cluster.objects.filter(pk=fleet_in_db.pk).update(registry="")
    version = draft_version(fleet_in_db, "1.0.0", status=Status.BUILT, image_id=SHA, local=True)
    page = act(admin_client, "push", version, post="yes")
    assert refused(page) == ["Prod has no registry, so exampleco/newimg:1.0.0 stays local: distribution will stream "
                             "it from the build engine to the nodes. Provision a registry first to push it."]


def test_build_with_no_worker_alive_says_so(admin_client, fleet_in_db, clean_queue):
    version = draft_version(fleet_in_db, "1.0.0")
    page = act(admin_client, "build", version, post="yes")
    assert refused(page) == ["No RQ worker is running for the 'default' queue, so nothing was queued. "
                             "Start one with `manage.py rqworker-pool` (README: Running the workers)."]
    assert ImageVersion.objects.get(pk=version.pk).status == Status.DRAFT


@pytest.mark.parametrize("behaviour, canaries, message", [
    ("3.0", "0", "A manual gate waits after the canaries: set at least one canary. Nothing was started."),
    ("3.0.1", "1", "A manual gate waits after the canaries, and prod reloads every DEA at once on the config (3.0.1+): "
                   "there are no canaries to wait after. Nothing was started."),
    # prod has one DEA: a gate after it would hold nothing, and the whole fleet would switch unjudged.
    ("3.0", "1", "A manual gate waits after the canaries, and all 1 DEA node(s) taking part are canaries: "
                 "no node is left for the gate to hold. Set fewer canaries. Nothing was started."),
])
def test_a_manual_gate_without_canaries_is_refused(admin_client, fleet_in_db, worker, behaviour, canaries, message):
    Cluster.objects.filter(pk=fleet_in_db.pk).update(kato_behaviour=behaviour)
    page = act(admin_client, "roll_out", pushed(fleet_in_db), **{**START, "canaries": canaries, "manual_gate": "on"})
    assert refused(page) == [message]
    assert not Rollout.objects.exists() and worker.count == 0


def test_a_manual_gate_is_kept_with_the_strategy(admin_client, fleet_in_db, worker):
    Node.objects.create(cluster=fleet_in_db, address="10.0.0.13", roles=["dea"], registry_config=PULLS,
                        desired_image=BASE, **TRUSTED)  # a DEA after the canary, for the gate to hold
    act(admin_client, "roll_out", pushed(fleet_in_db), **{**START, "manual_gate": "on"})
    assert Rollout.objects.get().manual_gate
