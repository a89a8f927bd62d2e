"""Status rules of an image version: what may be built, pushed or changed."""
import pytest

from images import transitions
from images.models import ImageVersion, ImmutableVersion, RunStep, Status

pytestmark = pytest.mark.django_db

SHA = "sha256:" + "a" * 64


@pytest.mark.parametrize("status, image_id, digest, can_build, can_push, editable", [
    (Status.DRAFT, "", "", True, False, True),
    (Status.QUEUED, "", "", False, False, False),
    (Status.BUILDING, "", "", False, False, False),
    (Status.FAILED, "", "", True, False, True),       # the build failed: fix the step, build again
    (Status.ERRORED, "", "", True, False, True),
    (Status.BUILT, SHA, "", False, True, False),
    (Status.PUSHING, SHA, "", False, False, False),
    (Status.FAILED, SHA, "", False, True, False),     # the push failed: push again, never rebuild
    (Status.PUSHED, SHA, SHA, False, False, False),
])
def test_what_each_state_allows(make_version, status, image_id, digest, can_build, can_push, editable):
    version = make_version(status=status, image_id=image_id, manifest_digest=digest)
    assert (version.can_build, version.can_push, version.is_editable) == (can_build, can_push, editable)
    assert transitions.queue(version.pk, transitions.BUILDABLE) == can_build
    if not can_build:
        assert transitions.queue(version.pk, transitions.PUSHABLE) == can_push
    assert ImageVersion.objects.get(pk=version.pk).status == (Status.QUEUED if can_build or can_push else status)


def test_a_queued_row_is_claimed_once_and_only_by_its_kind_of_job(make_version):
    version = make_version()
    assert transitions.queue(version.pk, transitions.BUILDABLE)
    assert not transitions.queue(version.pk, transitions.BUILDABLE)  # a second click queues nothing
    assert transitions.start(version.pk, Status.PUSHING, transitions.QUEUED_FOR_PUSH) is None
    claimed = transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    assert claimed.status == Status.BUILDING
    assert transitions.start(version.pk, Status.BUILDING, transitions.QUEUED_FOR_BUILD) is None


def test_a_built_version_is_immutable(make_version):
    version = make_version(status=Status.BUILT, image_id=SHA)
    version.tag = "1.0.1"
    with pytest.raises(ImmutableVersion, match="can no longer change"):
        version.save()
    version.refresh_from_db()
    version.from_reference = "busybox"
    with pytest.raises(ImmutableVersion):
        version.save(update_fields=["from_reference"])
    with pytest.raises(ImmutableVersion):
        RunStep.objects.create(version=version, command="echo more")
    with pytest.raises(ImmutableVersion):
        version.run_steps.first().delete()
    # What jobs and operators may still write: status fields and release notes.
    version.refresh_from_db()
    version.release_notes = "adds hi"
    version.save()
    transitions.finish(version, Status.PUSHED, manifest_digest=SHA)
    assert ImageVersion.objects.get(pk=version.pk).release_notes == "adds hi"


def test_a_draft_can_change(make_version):
    version = make_version()
    version.tag = "1.0.1"
    version.save()
    RunStep.objects.create(version=version, position=5, command="echo more")
    assert version.render_dockerfile().splitlines()[1:3] == ["RUN echo hi", "RUN echo more"]
