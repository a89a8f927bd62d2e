"""Drift does not call a node in sync when the desired name on it holds
another image than the one the console rolled out under that name (a name
re-pointed by docker load or tag): compared by registry digest, or by image
id for a version streamed without a registry."""
import pytest

from images.models import ImageVersion
from images.models.rollout import Rollout
from nodes import drift
from nodes.models import Cluster, Node
from nodes.models.node import Drift

pytestmark = pytest.mark.django_db
LOCAL = "exampleco/local:1.0.0"
PUSHED = "10.0.0.11:5000/exampleco/newimg:1.0.1"
GOOD_ID, BAD_ID = "sha256:" + "1" * 64, "sha256:" + "2" * 64
GOOD_DIGEST, BAD_DIGEST = "sha256:" + "a" * 64, "sha256:" + "b" * 64


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="prod", core_address="10.0.0.11")


def rolled_out(cluster, reference, *, local, distribute_only=False, status="succeeded"):
    repository, tag = reference.removeprefix("10.0.0.11:5000/").rsplit(":", 1)
    version = ImageVersion.objects.create(cluster=cluster, repository=repository, tag=tag, from_reference="base:1")
    ImageVersion.objects.filter(pk=version.pk).update(
        status="built" if local else "pushed", local=local, image_id=GOOD_ID, engine_reference=reference,
        registry_reference="" if local else reference, manifest_digest="" if local else GOOD_DIGEST)
    Rollout.objects.create(cluster=cluster, target=version, target_image=reference, target_pull=reference,
                           requested_by_username="rm", reason="r", status=status, distribute_only=distribute_only)


def node(cluster, desired, image_id=GOOD_ID, digest=None):
    return Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], host_key_type="ssh-ed25519",
                               host_key="AAAA", reachable=True, desired_image=desired, fence_state="RUNNING",
                               images=[{"ref": desired, "id": image_id, "digest": digest}])


def classify(n):
    return drift.classify(n, drift.expected_image(n))


def test_a_streamed_name_re_pointed_to_another_image_is_not_in_sync(cluster):
    rolled_out(cluster, LOCAL, local=True)
    assert classify(node(cluster, LOCAL, image_id=BAD_ID)) == Drift.IMAGE_DIFFERS
    Node.objects.all().delete()
    assert classify(node(cluster, LOCAL, image_id=GOOD_ID)) == Drift.IN_SYNC


def test_a_pulled_name_with_another_digest_is_not_in_sync(cluster):
    rolled_out(cluster, PUSHED, local=False)
    assert classify(node(cluster, PUSHED, image_id=BAD_ID, digest=BAD_DIGEST)) == Drift.IMAGE_DIFFERS
    Node.objects.all().delete()
    assert classify(node(cluster, PUSHED, image_id=BAD_ID, digest=GOOD_DIGEST)) == Drift.IN_SYNC


@pytest.mark.parametrize("options", [{"distribute_only": True}, {"status": "failed"}])
def test_only_a_name_the_console_activated_sets_an_expectation(cluster, options):
    rolled_out(cluster, LOCAL, local=True, **options)
    assert classify(node(cluster, LOCAL, image_id=BAD_ID)) == Drift.IN_SYNC
