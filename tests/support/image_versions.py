"""Image version rows for every suite, in one place:

- draft_version(): a draft written directly, for tests whose subject is not
  the version form (unit and integration tests alike);
- version_form(), add_version(), save_steps(): the version's admin form as an
  operator posts it (add, or RUN steps saved on the change form);
- product_version(): a version built and pushed by the product's own build
  and push jobs (images/jobs.py) on a sandbox, the way a worker runs them,
  so a rollout test rolls out what the console itself produced. Each image
  is built and pushed once per test session and cached; later tests get a
  row with the values those jobs wrote (the database is emptied per test,
  the sandbox's engine and registry are not);
- hand_pushed_version(): the one image the console cannot build (no CMD at
  all), pushed with the docker CLI as someone outside the console would."""
import json
import shlex

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from images import jobs, transitions
from images.models import ImageVersion, RunStep, Status
from sandbox import layout
from support import ssh

BASE = "stackato/app-holophonor:3.0.0"
REPOSITORY = "exampleco/newimg"

# What the build and push jobs wrote, by (sandbox state dir, repository, tag, cmd).
_BUILT: dict[tuple, dict] = {}
_PRODUCT_FIELDS = ("status", "image_id", "size", "dockerfile", "engine_reference", "local", "registry_reference",
                   "manifest_digest", "built_at", "pushed_at")


def draft_version(cluster, tag: str = "1.0.0", steps=("echo hi",), *, repository: str = REPOSITORY,
                  from_reference: str = BASE, cmd: list[str] | None = None, **fields) -> ImageVersion:
    """A draft with its RUN steps (and CMD: the product's default when None);
    fields (status, image_id...) are written after the steps, because a built
    version refuses new steps."""
    definition = {} if cmd is None else {"cmd": cmd}
    version = ImageVersion.objects.create(cluster=cluster, repository=repository, tag=tag,
                                          from_reference=from_reference, **definition)
    for position, command in enumerate(steps):
        RunStep.objects.create(version=version, position=position, command=command)
    if fields:
        ImageVersion.objects.filter(pk=version.pk).update(**fields)
        version.refresh_from_db()
    return version


def version_form(cluster, steps=(), **fields) -> dict:
    """The version form as the admin posts it, its RUN steps in the inline."""
    data = {"cluster": cluster.pk, "repository": REPOSITORY, "tag": "1.0.0", "parent": "",
            "from_reference": BASE, "cmd": '["start.sh"]', "release_notes": "",
            "run_steps-TOTAL_FORMS": str(len(steps)), "run_steps-INITIAL_FORMS": "0",
            "run_steps-MIN_NUM_FORMS": "0", "run_steps-MAX_NUM_FORMS": "100"}
    for index, command in enumerate(steps):
        data.update({f"run_steps-{index}-position": str(index), f"run_steps-{index}-command": command})
    data.update(fields)
    return data


def add_version(client, cluster, steps=(), **fields):
    """The admin's add form, posted; the response."""
    return client.post(reverse("admin:images_imageversion_add"), version_form(cluster, steps, **fields))


def save_steps(admin_client, version, steps):
    """Add RUN steps the way an operator does: the change form and its inline."""
    data = version_form(version.cluster, steps, repository=version.repository, tag=version.tag,
                        from_reference=version.from_reference, release_notes="adds a note")
    response = admin_client.post(reverse("admin:images_imageversion_change", args=[version.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    version.refresh_from_db()


def product_version(sandbox: dict, cluster, tag: str, cmd: list[str] | None = None) -> ImageVersion:
    """A version of the sandbox's base image plus one RUN step (so every tag
    is its own image, with a layer no node has yet), built on the Core node's
    engine and pushed to the cluster's registry by images/jobs.py (a cluster
    without a registry keeps it built and local). cmd is the version's CMD
    (the product's default when None)."""
    key = (sandbox["state_dir"], cluster.registry, REPOSITORY, tag, json.dumps(cmd))
    version = draft_version(cluster, tag, [f"echo {tag} > /release"], cmd=cmd)
    if key in _BUILT:
        ImageVersion.objects.filter(pk=version.pk).update(**_BUILT[key])
        version.refresh_from_db()
        return version
    built = [(jobs.build_image_version, transitions.BUILDABLE, Status.BUILT)]
    # Without a registry the version stays local (built): rollouts stream it to the nodes.
    pushed = [(jobs.push_image_version, transitions.PUSHABLE, Status.PUSHED)] if cluster.registry else []
    with override_settings(BUILD_DOCKER_HOST=layout.node(sandbox, "core")["docker_host"], BUILD_TIMEOUT=120,
                           REGISTRY_TIMEOUT=10):
        for job, allowed, ends in built + pushed:
            assert transitions.queue(version.pk, allowed), version.status
            job(version.pk)  # what a worker runs for the admin's Build / Push action
            version.refresh_from_db()
            assert version.status == ends, (version.status, version.status_reason)
    _BUILT[key] = {name: getattr(version, name) for name in _PRODUCT_FIELDS}
    return version


def hand_pushed_version(sandbox: dict, cluster, tag: str) -> ImageVersion:
    """The base image re-imported without any config (so without CMD), pushed
    to the sandbox registry with the docker CLI and recorded with the image id
    and digest the engine and registry report. The console always writes a
    CMD, so only an image made outside it can lack one."""
    registry = f"{sandbox['registry']['host']}:{sandbox['registry']['port']}"
    ref = f"{registry}/{REPOSITORY}:{tag}"
    script = (f"set -e; cid=$(docker create {BASE} sh); docker export $cid | docker import - {ref} >/dev/null; "
              f"docker rm $cid >/dev/null; docker push {ref} >/dev/null; "
              f"docker image inspect --format '{{{{.Id}}}} {{{{index .RepoDigests 0}}}}' {shlex.quote(ref)}")
    code, out, err = ssh.run(layout.node(sandbox, "core"), sandbox["client_key"], script)
    assert code == 0, err
    image_id, repo_digest = out.split()
    now = timezone.now()
    return draft_version(cluster, tag, (), status=Status.PUSHED, image_id=image_id, registry_reference=ref,
                         manifest_digest=repo_digest.rsplit("@", 1)[1], engine_reference=ref, built_at=now,
                         pushed_at=now)
