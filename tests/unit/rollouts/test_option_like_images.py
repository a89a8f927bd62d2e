"""An image name read from a node is data, never an option: a config value
starting with '-' is refused with a clear error before any docker command
runs, a rollback to it is refused, and docker argv puts '--' before images."""
import json

import pytest

from images.models.rollout import Phase, Rollout, RolloutStep
from images.rollouts import node_engine, start, steps
from nodes.image_setting import IMAGE_LIST, ImageSetting
from nodes.kato import Kato, KatoError
from nodes.models import Cluster, Node
from nodes.ssh import CommandResult, Endpoint

HOSTILE = ["--config=/tmp/evil", "-H=tcp://127.0.0.1:1", "-v"]
GET = ("kato", "config", "get", "fence", "docker/image", "--json")


class RecordingSession:
    """Answers `kato config get` with the given value; every other command succeeds. Records all argv."""
    endpoint = Endpoint("10.0.0.11", 22, "root", None)

    def __init__(self, value):
        self.value, self.calls = value, []

    def run(self, argv, *, timeout=None, check=False, stdin=None):
        self.calls.append(tuple(argv))
        if tuple(argv[:4]) == GET[:4]:
            return CommandResult(tuple(argv), 0, json.dumps(self.value) + "\n", "")
        return CommandResult(tuple(argv), 0, "", "")


@pytest.mark.parametrize("value", HOSTILE + [["-x", "stackato/app-holophonor:3.0.0"]])
def test_kato_refuses_an_option_like_image_in_the_config(value):
    setting = IMAGE_LIST if isinstance(value, list) else ImageSetting()
    session = RecordingSession(value)
    with pytest.raises(KatoError, match="not an image reference"):
        Kato(session).desired_image(setting)


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE)
def test_the_config_step_keeps_it_out_of_previous_image_and_docker(value):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    core = Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"])
    rollout = Rollout.objects.create(cluster=cluster, target_image="exampleco/newimg:1", target_pull="exampleco/newimg:1",
                                     requested_by_username="rm", reason="r", status="activating")
    step = RolloutStep.objects.create(rollout=rollout, node=core, phase=Phase.CONFIG, image="exampleco/newimg:1")
    session = RecordingSession(value)
    with pytest.raises(KatoError, match="not an image reference"):
        steps.set_config(step, session)
    assert Rollout.objects.get(pk=rollout.pk).previous_image == ""  # nothing to roll back to that is an option
    assert not [argv for argv in session.calls if argv[0] == "docker" or value in argv]


@pytest.mark.django_db
def test_a_rollback_to_an_option_like_image_is_refused(django_user_model):
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11")
    done = Rollout.objects.create(cluster=cluster, target_image="exampleco/newimg:1", target_pull="exampleco/newimg:1",
                                  previous_image="--config=/tmp/evil", requested_by_username="rm", reason="r",
                                  status="succeeded")
    user = django_user_model.objects.create_user("rm")
    with pytest.raises(start.RolloutRefused, match="not an image reference"):
        start.undo(done, user=user, reason="back")
    assert Rollout.objects.count() == 1


def test_docker_argv_ends_options_before_images():
    session = RecordingSession("unused")
    node_engine.holds(session, "-x", "-x")
    node_engine.image_id(session, "-x")
    assert session.calls == [("docker", "inspect", "--type", "image", "--format", "{{json .RepoDigests}}", "--", "-x"),
                             ("docker", "inspect", "--type", "image", "--format", "{{.Id}}", "--", "-x")]
