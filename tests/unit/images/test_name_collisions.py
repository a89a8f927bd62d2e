"""A version may not take the name of the image the cluster runs, or of one a
past rollout activated: docker would re-point that name on every node. The
form refuses it at creation, and push, roll out and distribute refuse it
again on the server; a version keeps the names it was itself activated under."""
import pytest

from images.admin.actions import push_refusal
from images.models import ImageVersion
from images.models.rollout import Rollout
from images.rollouts import start
from nodes.models import Node
from support.image_versions import add_version

pytestmark = pytest.mark.django_db
ACTIVE = "stackato/app-holophonor:3.0.0"


@pytest.fixture
def running(cluster):
    for address in ("10.0.0.12", "10.0.0.13"):
        Node.objects.create(cluster=cluster, address=address, roles=["dea"], desired_image=ACTIVE)
    return cluster


def test_the_form_refuses_the_active_images_name(admin_client, running):
    response = add_version(admin_client, running, repository="stackato/app-holophonor", tag="3.0.0")
    assert response.status_code == 200
    assert "is the name of stackato/app-holophonor:3.0.0, the cluster config" in response.content.decode()
    assert not ImageVersion.objects.exists()


def test_names_are_compared_as_docker_reads_them(admin_client, cluster):
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], desired_image="docker.io/library/base")
    response = add_version(admin_client, cluster, repository="base", tag="latest")
    assert "is the name of docker.io/library/base" in response.content.decode()
    assert add_version(admin_client, cluster, repository="base", tag="1.0").status_code == 302


def test_with_a_registry_the_registry_name_is_compared_too(admin_client, cluster):
    cluster.registry = "10.0.0.11:5000"
    cluster.save()
    Node.objects.create(cluster=cluster, address="10.0.0.12", roles=["dea"], desired_image="10.0.0.11:5000/exampleco/x:2")
    response = add_version(admin_client, cluster, repository="exampleco/x", tag="2")
    assert "is the name of 10.0.0.11:5000/exampleco/x:2" in response.content.decode()


def test_a_past_rollouts_image_is_refused_too(admin_client, cluster, make_version):
    earlier = make_version(tag="1.0.0", status="built", image_id="sha256:" + "a" * 64, local=True,
                           engine_reference="exampleco/newimg:1.0.0")
    Rollout.objects.create(cluster=cluster, target=None, target_image="exampleco/other:7", target_pull="exampleco/other:7",
                           previous_image="exampleco/old:6", requested_by_username="rm", reason="r", status="succeeded")
    for repository, tag in (("exampleco/other", "7"), ("exampleco/old", "6")):
        response = add_version(admin_client, cluster, repository=repository, tag=tag)
        assert "is the name of" in response.content.decode(), (repository, tag)
    # Its own activation does not make a version collide with itself (a roll back to it).
    Rollout.objects.create(cluster=cluster, target=earlier, target_image=earlier.engine_reference,
                           target_pull=earlier.engine_reference, requested_by_username="rm", reason="r",
                           status="succeeded")
    from images import name_collisions
    assert name_collisions.version_collision(earlier) is None


def test_push_and_rollout_refuse_a_version_that_collides(running, make_version, admin_user):
    """A version saved before the check (or before the cluster ran that name)."""
    running.registry = "10.0.0.11:5000"
    running.save()
    version = make_version(tag="3.0.0", status="built", image_id="sha256:" + "b" * 64, local=False,
                           engine_reference=ACTIVE)
    ImageVersion.objects.filter(pk=version.pk).update(repository="stackato/app-holophonor")
    version.refresh_from_db()
    assert "is the name of stackato/app-holophonor:3.0.0" in push_refusal(version)
    ImageVersion.objects.filter(pk=version.pk).update(local=True)
    version.refresh_from_db()
    with pytest.raises(start.RolloutRefused, match="is the name of stackato/app-holophonor:3.0.0"):
        start.rollout_version(version, user=admin_user, reason="r", distribute_only=True)
    assert not Rollout.objects.exists()



def test_after_a_rollback_the_refusal_says_the_image_was_rolled_back(admin_client, cluster, make_version):
    """A rolled-back rollout did not leave its image active: the refusal of its
    name says it was rolled back (the nodes still hold it by that name), and
    calls a rollback a rollback."""
    Rollout.objects.create(cluster=cluster, target_image="exampleco/app:2", target_pull="exampleco/app:2",
                           previous_image="exampleco/app:1", requested_by_username="rm", reason="r",
                           status="rolled_back")
    page = add_version(admin_client, cluster, repository="exampleco/app", tag="2").content.decode()
    assert "exampleco/app:2 is the name of exampleco/app:2, the image the rollout of " in page
    assert " set in the cluster config before it was rolled back: a version with that name would replace it" in page
    assert "activated" not in page.split("exampleco/app:2 is the name of", 1)[1].split("Choose another", 1)[0]
    Rollout.objects.create(cluster=cluster, target_image="exampleco/app:0", target_pull="exampleco/app:0",
                           previous_image="exampleco/app:9", kind="rollback", requested_by_username="rm", reason="r",
                           status="cancelled")
    for tag, said in (("0", "the target of the rollback of "), ("9", "the active image when the rollback of ")):
        assert said in add_version(admin_client, cluster, repository="exampleco/app", tag=tag).content.decode(), tag
    assert ", which ended cancelled: a version" in add_version(
        admin_client, cluster, repository="exampleco/app", tag="0").content.decode()
