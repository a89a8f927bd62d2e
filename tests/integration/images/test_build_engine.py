"""BUILD_DOCKER_HOST=ssh-node:<address>: the node's engine through the
console's own SSH session (pinned host key), and a build streamed over it."""
import pytest

from images import engine
from images.models import Status
from sandbox import engines, layout

pytestmark = pytest.mark.django_db(transaction=True)


def test_ssh_node_reaches_the_node_engine_over_the_pinned_session(sandbox, fleet, settings):
    core = layout.node(sandbox, "core")
    settings.BUILD_DOCKER_HOST = f"ssh-node:{core['address']}"
    with engine.open_engine(fleet) as api:
        assert api.version()["Version"] == engines.client(core).version()["Version"]
    # An untrusted node is refused before any engine call.
    fleet.nodes.filter(address=core["address"]).update(host_key="", host_key_type="")
    with pytest.raises(engine.EngineUnavailable, match="host key not trusted"):
        with engine.open_engine(fleet):
            pass


def test_a_local_build_over_ssh_node_when_the_cluster_has_no_registry(sandbox, fleet, settings, make_version, act,
                                                                        worker_alive):
    settings.BUILD_DOCKER_HOST = f"ssh-node:{layout.node(sandbox, 'core')['address']}"
    fleet.registry = ""
    fleet.save()
    version = make_version(repository="exampleco/local", tag="1.0.0", steps=["echo streamed; echo over-ssh > /f"])
    act("build", version)
    assert version.status == Status.BUILT, version.status_reason
    assert version.local and version.engine_reference == "exampleco/local:1.0.0"
    assert "streamed" in version.log_lines.values_list("text", flat=True)
    assert "stays local: distribution will stream it" in act("push", version)
    assert version.status == Status.BUILT and version.registry_reference == ""
