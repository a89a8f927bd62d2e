"""Build and push against the sandbox's real Docker engine and registry
(seed steps 1-5 and registry steps 4-6)."""
import html
import threading
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from images import jobs
from images.models import ImageVersion, Status
from sandbox import knobs, layout
from support import ssh
from support.image_versions import save_steps
from support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "stackato/app-holophonor:3.0.0"
V2_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def run_on(sandbox, name, command):
    code, out, err = ssh.run(layout.node(sandbox, name), sandbox["client_key"], command)
    assert code == 0, f"{command}: {err}"
    return out


def registry_digest(location, repository, tag):
    request = urllib.request.Request(f"http://{location}/v2/{repository}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": V2_MANIFEST})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["Docker-Content-Digest"]


def test_from_active_build_push_and_run_on_a_dea(admin_client, sandbox, fleet, act, worker_alive):
    response = admin_client.post(reverse("admin:images_imageversion_from_active"), {"cluster": fleet.pk}, follow=True)
    assert b"Draft stackato/app-holophonor:3.0.1 created FROM stackato/app-holophonor:3.0.0" in response.content
    version = ImageVersion.objects.get()
    assert (version.repository, version.tag, version.from_reference, version.status) == (
        "stackato/app-holophonor", "3.0.1", BASE, Status.DRAFT)
    save_steps(admin_client, version, ["echo 'built by stackato_dash' > /etc/stackato-note"])
    assert version.dockerfile == (f"FROM {BASE}\nRUN echo 'built by stackato_dash' > /etc/stackato-note\n"
                                  'CMD ["start.sh"]\n')

    assert "Build queued" in act("build", version)
    assert version.status == Status.BUILT, version.status_reason
    registry = fleet.registry
    assert version.image_id.startswith("sha256:") and version.size > 0 and not version.local
    assert version.engine_reference == f"{registry}/stackato/app-holophonor:3.0.1"

    assert "Push queued" in act("push", version)
    assert version.status == Status.PUSHED, version.status_reason
    assert version.registry_reference == f"{registry}/stackato/app-holophonor:3.0.1"
    assert version.manifest_digest == registry_digest(registry, "stackato/app-holophonor", "3.0.1")
    log = "\n".join(version.log_lines.values_list("text", flat=True))
    assert "Step 2/3 : RUN echo 'built by stackato_dash' > /etc/stackato-note" in log
    assert f"=== pushed {registry}/stackato/app-holophonor:3.0.1@{version.manifest_digest}" in log

    # A DEA pulls it from the registry, by digest, and the file is in it (seed registry step 6).
    run_on(sandbox, "dea1", f"docker pull {version.pull_reference}")
    assert run_on(sandbox, "dea1", f"docker run --rm --network none {version.pull_reference} "
                                   "cat /etc/stackato-note") == "built by stackato_dash\n"

    # Immutable from now on: no rebuild, no re-push, no second row with the tag.
    assert "a tag is built once and never rebuilt" in act("build", version)
    assert "a tag is pushed once and never re-pushed" in act("push", version)
    assert version.status == Status.PUSHED
    page = admin_client.post(reverse("admin:images_imageversion_add"), {
        "cluster": fleet.pk, "repository": version.repository, "tag": version.tag, "from_reference": BASE,
        "cmd": '["start.sh"]', "run_steps-TOTAL_FORMS": "0", "run_steps-INITIAL_FORMS": "0"})
    assert "already has a version with this repository and tag" in page.content.decode()
    # The next draft from the active image skips the taken tag.
    admin_client.post(reverse("admin:images_imageversion_from_active"), {"cluster": fleet.pk})
    assert ImageVersion.objects.filter(tag="3.0.2").exists()
    # The registry view knows it.
    listing = admin_client.get(reverse("admin:images_imageversion_registry", args=[fleet.pk])).content.decode()
    assert "stackato/app-holophonor</td><td>3.0.1" in listing and version.manifest_digest in listing
    assert reverse("admin:images_imageversion_change", args=[version.pk]) in listing


def test_a_failing_run_step_ends_failed_with_its_output(fleet, make_version, act, worker_alive):
    version = make_version(repository="exampleco/failing", tag="1.0.0", steps=[
        "echo first-step-ok > /ok", "echo about-to-fail; echo on-stderr >&2; exit 3", "echo never-run"])
    act("build", version)
    assert version.status == Status.FAILED
    assert version.status_reason.startswith("Step 3/5 : RUN echo about-to-fail; echo on-stderr >&2; exit 3 failed:")
    assert "returned a non-zero code: 3" in version.status_reason
    assert "about-to-fail" in version.status_reason and "on-stderr" in version.status_reason
    assert "first-step-ok" not in version.status_reason and version.image_id == ""
    log = list(version.log_lines.values_list("text", flat=True))
    assert "about-to-fail" in log, "\n".join(log)
    assert not any("never-run" in line and "Step" not in line for line in log)
    assert version.can_build  # fix the step and build again


def test_registry_down_fails_the_push_clearly_and_registers_nothing(sandbox, fleet, make_version, act, worker_alive):
    version = make_version(repository="exampleco/regdown", tag="1.0.0", steps=["echo x > /x"])
    act("build", version)
    assert version.status == Status.BUILT, version.status_reason
    knobs.apply(Path(sandbox["state_dir"]), "registry", "down")
    act("push", version)
    assert version.status == Status.FAILED
    assert f"push to {fleet.registry} failed: the registry at {fleet.registry} does not answer" in version.status_reason
    assert "Nothing was recorded as pushed" in version.status_reason
    assert (version.registry_reference, version.manifest_digest) == ("", "")
    assert version.can_push and not version.can_build  # the image is built: only the push is retried
    knobs.apply(Path(sandbox["state_dir"]), "registry", "up")
    act("push", version)
    assert version.status == Status.PUSHED, version.status_reason
    assert version.manifest_digest == registry_digest(fleet.registry, "exampleco/regdown", "1.0.0")
    # A worker that died after pushing but before saving: the retry finds its
    # own image in the registry and records it instead of refusing the tag.
    digest = version.manifest_digest
    ImageVersion.objects.filter(pk=version.pk).update(status=Status.FAILED, registry_reference="", manifest_digest="")
    act("push", version)
    assert (version.status, version.manifest_digest) == (Status.PUSHED, digest), version.status_reason
    assert "an earlier push of this version" in " ".join(version.log_lines.values_list("text", flat=True))


RELEASE = "/tmp/release-the-held-build"


def release_held_build(sandbox, build_running):
    """Create the file the held RUN step waits for, inside the build's running
    container on the Core engine (the only container whose command names it).
    The log says "Step 3/5 : RUN" before the engine has started that container,
    and on a busy machine it can take seconds: a single look may find nothing
    and leave the build held for ever, so look until one container was touched."""
    touch = ("for c in $(docker ps -q --no-trunc); do "
             f"docker inspect --format '{{{{json .Config.Cmd}}}}' $c | grep -q {RELEASE} && "
             f"docker exec $c touch {RELEASE} && echo released; done; true")
    wait_until(lambda: not build_running() or "released" in run_on(sandbox, "core", touch),
               "the held build's container", timeout=60, interval=0.5)


def test_the_log_is_stored_while_a_slow_build_runs(admin_client, sandbox, fleet, make_version, act, worker_alive):
    # The middle step waits until the test lets it go: the build is running for as
    # long as the test looks at its log, whatever the machine's speed.
    hold = f"until [ -e {RELEASE} ]; do sleep 0.1; done"
    version = make_version(repository="exampleco/slow", tag="1.0.0", steps=["echo before-hold", hold, "echo after-hold"])
    assert "Build queued" in act("build", version, run=False)
    assert version.status == Status.QUEUED

    def work():
        try:
            jobs.build_image_version(version.pk)
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=work)
    worker.start()
    try:
        step = f"Step 3/5 : RUN {hold}"
        seen = wait_until(lambda: (lines := list(version.log_lines.values_list("text", flat=True))) and
                          step in lines and lines, "the held step in the stored log")
        live = admin_client.get(reverse("admin:images_imageversion_log", args=[version.pk]) + "?after=0").json()
        change_page = admin_client.get(reverse("admin:images_imageversion_change", args=[version.pk])).content.decode()
        assert "before-hold" in seen and "after-hold" not in seen
        assert live["running"] and live["status"] == Status.BUILDING
        assert step in [text for _, text in live["lines"]]
        # The change page shows the lines so far and polls for the rest.
        assert 'data-running="yes"' in change_page and html.escape(step) in change_page
    finally:
        release_held_build(sandbox, worker.is_alive)
        worker.join(120)
    version.refresh_from_db()
    assert version.status == Status.BUILT, version.status_reason
    assert "after-hold" in version.log_lines.values_list("text", flat=True)


def test_build_without_a_worker_says_so_and_queues_nothing(fleet, make_version, act):
    import django_rq
    django_rq.get_queue("default").empty()
    version = make_version(repository="exampleco/noworker", tag="1.0.0", steps=["true"])
    assert "No RQ worker is running" in act("build", version, run=False)
    assert version.status == Status.DRAFT and django_rq.get_queue("default").count == 0
