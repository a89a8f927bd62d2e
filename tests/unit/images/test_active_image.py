"""A draft from the active image: which repository, tag and parent it gets.
The kato read itself runs against the sandbox (integration tests); here it is
replaced by the value a 3.0 or 3.4 cluster would return."""
import pytest

from images import active_image
from images.active_image import ActiveImageError, draft_from_active
from images.models import ImageVersion, Status

pytestmark = pytest.mark.django_db

SHA = "sha256:" + "d" * 64


@pytest.fixture
def active(monkeypatch):
    def set_active(ref):
        monkeypatch.setattr(active_image, "read_active_image", lambda cluster: ref)
    return set_active


def test_a_draft_from_the_seed_image(cluster, active, admin_user):
    active("stackato/app-holophonor:3.0.0")
    version = draft_from_active(cluster, admin_user)
    assert (version.repository, version.tag, version.from_reference, version.parent) == (
        "stackato/app-holophonor", "3.0.1", "stackato/app-holophonor:3.0.0", None)
    assert version.status == Status.DRAFT and version.created_by_username == "admin"
    assert version.dockerfile == 'FROM stackato/app-holophonor:3.0.0\nCMD ["start.sh"]\n'
    # The next draft skips the tag now taken.
    assert draft_from_active(cluster, admin_user).tag == "3.0.2"


def test_an_image_of_ours_in_the_cluster_registry_becomes_the_parent(cluster, active, make_version):
    cluster.registry = "127.0.8.250:5000"  # nothing listens: the registry's tags are simply not known
    cluster.save()
    parent = make_version(tag="2.1.9", status=Status.PUSHED, image_id=SHA, manifest_digest=SHA,
                          registry_reference="127.0.8.250:5000/exampleco/newimg:2.1.9")
    active(parent.registry_reference)  # 3.4: the first entry of docker/images
    version = draft_from_active(cluster, None)
    assert (version.repository, version.tag, version.parent) == ("exampleco/newimg", "2.1.10", parent)
    active(f"127.0.8.250:5000/exampleco/newimg@{SHA}")  # pinned by digest
    by_digest = draft_from_active(cluster, None)
    assert (by_digest.tag, by_digest.parent) == ("1.0.0", parent)


@pytest.mark.parametrize("ref", ["", "not a ref", "x\nRUN evil", "Exampleco/NewImg:1"])
def test_an_active_image_we_cannot_build_from_is_an_error(cluster, active, ref):
    active(ref)
    with pytest.raises(ActiveImageError, match="not a reference we can build FROM"):
        draft_from_active(cluster, None)
    assert not ImageVersion.objects.exists()


def test_a_cluster_without_its_core_node_row_says_so(cluster):
    with pytest.raises(ActiveImageError, match="no node row for its Core address 10.0.0.11"):
        draft_from_active(cluster, None)
