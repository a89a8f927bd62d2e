"""nodes.remote_docker's parsing against a fake session with canned docker
CLI output: today's engines, and the Docker 1.x engines Stackato's DEAs run
(forms they lack are asked another way). The real engine answers in
tests/integration/nodes/test_kato_client.py."""
import pytest

from nodes import remote_docker
from nodes.ssh import CommandResult, Endpoint

IMAGES = ("docker", "images", "--digests", "--no-trunc", "--format",
          "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Digest}}")
VERSION = ("docker", "version", "--format", "{{.Server.Version}}")
INFO = ("docker", "info", "--format", "{{json .RegistryConfig}}")
MFLAG_REFUSAL = "flag provided but not defined: --format\nSee 'docker version --help'.\n"  # Docker before 1.13


class FakeSession:
    """The node: each argv answered from a table, a list of answers in turn."""
    endpoint = Endpoint("10.0.0.5", 22, "root", None)

    def __init__(self, answers):
        self.answers = {argv: answer if isinstance(answer, list) else [answer] for argv, answer in answers}

    def run(self, argv, *, timeout=None):
        answers = self.answers[tuple(argv)]
        return CommandResult(tuple(argv), *(answers.pop(0) if len(answers) > 1 else answers[0]))


def test_docker_images_skip_untagged_and_read_digests():
    printed = ("stackato/app-holophonor\t3.0.0\tsha256:aa\t<none>\n"
               "127.0.0.11:5000/x/y\t1\tsha256:bb\tsha256:dd\n"
               "<none>\t<none>\tsha256:cc\t<none>\n")
    session = FakeSession([(IMAGES, (0, printed, ""))])
    assert remote_docker.images(session) == [
        {"ref": "stackato/app-holophonor:3.0.0", "id": "sha256:aa", "digest": None},
        {"ref": "127.0.0.11:5000/x/y:1", "id": "sha256:bb", "digest": "sha256:dd"}]


@pytest.mark.parametrize("answer", [(0, "not an image line\n", ""), (1, "", "Cannot connect to the Docker daemon\n")])
def test_docker_failures(answer):
    session = FakeSession([(IMAGES, answer)])
    with pytest.raises(remote_docker.DockerError):
        remote_docker.images(session)


def test_docker_engine_version():
    session = FakeSession([(VERSION, [(0, "26.1.5+dfsg1\n", ""), (1, "", "Cannot connect\n")])])
    assert remote_docker.engine_version(session) == "26.1.5+dfsg1"
    with pytest.raises(remote_docker.DockerError, match="Cannot connect"):
        remote_docker.engine_version(session)


def test_an_engine_before_1_8_gives_its_version_as_text():
    text = ("Client version: 1.7.1\nClient API version: 1.19\nGo version (client): go1.4.2\n"
            "Server version: 1.7.1\nServer API version: 1.19\n")
    session = FakeSession([(VERSION, (2, "", MFLAG_REFUSAL)), (("docker", "version"), (0, text, ""))])
    assert remote_docker.engine_version(session) == "1.7.1"


def test_an_engine_before_1_13_gives_its_insecure_registries_as_text():
    text = ("Containers: 3\nRegistry: https://index.docker.io/v1/\nInsecure Registries:\n 10.0.0.5:5000\n"
            " 10.1.0.0/16\n 127.0.0.0/8\nLive Restore Enabled: false\n")
    session = FakeSession([(INFO, (2, "", MFLAG_REFUSAL)), (("docker", "info"), (0, text, ""))])
    config = remote_docker.registry_config(session)
    assert config["InsecureRegistryCIDRs"] == ["10.1.0.0/16", "127.0.0.0/8"]
    assert config["IndexConfigs"] == {"10.0.0.5:5000": {"Name": "10.0.0.5:5000", "Mirrors": [], "Secure": False,
                                                        "Official": False}}


def test_an_info_text_with_no_insecure_registries_list_is_an_error():
    session = FakeSession([(INFO, (2, "", MFLAG_REFUSAL)), (("docker", "info"), (0, "Containers: 3\n", ""))])
    with pytest.raises(remote_docker.DockerError, match="no 'Insecure Registries:' list"):
        remote_docker.registry_config(session)


def test_image_and_container_lookups_use_inspect_type_and_a_separator():
    image = ("docker", "inspect", "--type", "image", "--format", "{{.Id}}", "--", "-x:1")
    container = ("docker", "inspect", "--type", "container", "--", "reg")
    session = FakeSession([(image, [(0, "sha256:ab\n", ""), (1, "[]\n", "Error: No such image: -x:1\n"),
                                    (1, "", "Cannot connect to the Docker daemon\n")]),
                           (container, [(0, '[{"Id": "c1", "State": {"Running": true}}]\n', ""),
                                        (1, "[]\n", "Error: No such container: reg\n")])])
    assert remote_docker.image_id(session, "-x:1") == "sha256:ab"
    assert remote_docker.image_id(session, "-x:1") is None
    with pytest.raises(remote_docker.DockerError, match="Cannot connect"):
        remote_docker.image_id(session, "-x:1")
    assert remote_docker.inspect_container(session, "reg")["Id"] == "c1"
    assert remote_docker.inspect_container(session, "reg") is None
