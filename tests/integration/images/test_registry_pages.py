"""The registry view against the sandbox's real registry (Debian's
docker-registry, v2 API, on the Core address). Provisioning one:
test_registry_provision.py."""
from pathlib import Path

import pytest
from django.urls import reverse

from images.models import Status
from sandbox import engines, knobs, layout

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "stackato/app-holophonor:3.0.0"


def push_by_hand(sandbox, location, repository, tag):
    """What an operator (or another console) pushes outside this one."""
    api = engines.client(layout.node(sandbox, "core")).api
    api.tag(BASE, f"{location}/{repository}", tag)
    stream = api.push(f"{location}/{repository}", tag=tag, stream=True, decode=True)
    errors = [chunk["error"] for chunk in stream if "error" in chunk]
    assert not errors


def test_unknown_registry_tags_are_shown_and_refused_as_new_tags(admin_client, sandbox, fleet, make_version, act,
                                                                  worker_alive):
    push_by_hand(sandbox, fleet.registry, "exampleco/byhand", "7.0.0")
    page = admin_client.get(reverse("admin:images_imageversion_registry", args=[fleet.pk])).content.decode()
    row = page[page.index("exampleco/byhand"):]
    assert row.startswith("exampleco/byhand</td><td>7.0.0</td><td><code>sha256:")
    assert "<strong>unknown</strong>" in row[:400]

    # The add form refuses a tag the registry already holds...
    response = admin_client.post(reverse("admin:images_imageversion_add"), {
        "cluster": fleet.pk, "repository": "exampleco/byhand", "tag": "7.0.0", "from_reference": BASE,
        "cmd": '["start.sh"]', "run_steps-TOTAL_FORMS": "0", "run_steps-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert f"The registry {fleet.registry} already holds exampleco/byhand:7.0.0" in response.content.decode()
    # ... and so does Build, for a row that got the tag another way.
    version = make_version(repository="exampleco/byhand", tag="7.0.0", steps=["true"])
    assert "already holds exampleco/byhand:7.0.0" in act("build", version)
    assert version.status == Status.DRAFT


def test_the_registry_index_lists_clusters_and_a_down_registry_is_an_error_not_a_traceback(
        admin_client, sandbox, fleet):
    index = admin_client.get(reverse("admin:images_imageversion_registry_index")).content.decode()
    assert reverse("admin:images_imageversion_registry", args=[fleet.pk]) in index
    knobs.apply(Path(sandbox["state_dir"]), "registry", "down")
    page = admin_client.get(reverse("admin:images_imageversion_registry", args=[fleet.pk]))
    assert page.status_code == 200
    assert f"the registry at {fleet.registry} does not answer" in page.content.decode()


def test_a_push_never_overwrites_a_tag_someone_else_pushed_meanwhile(sandbox, fleet, make_version, act, worker_alive):
    version = make_version(repository="exampleco/race", tag="1.0.0", steps=["echo mine > /mine"])
    act("build", version)
    assert version.status == Status.BUILT, version.status_reason
    push_by_hand(sandbox, fleet.registry, "exampleco/race", "1.0.0")
    act("push", version)
    assert version.status == Status.FAILED
    assert "already holds exampleco/race:1.0.0" in version.status_reason and "not overwritten" in version.status_reason
    assert (version.registry_reference, version.manifest_digest) == ("", "")
