"""The build job: seed steps 3-4 (render the Dockerfile, `docker build -t`)
through the Docker SDK, with the output stored line by line as it streams."""
import io
import re
from collections import deque

import docker
from django.utils import timezone

from images import engine, transitions
from images.dockerfile import DockerfileError
from images.log_writer import LogWriter
from images.models import ImageVersion, Status

_STEP = re.compile(r"Step \d+/\d+ : ")
# Engine bookkeeping lines inside a step: not the step's own output.
_NOISE = re.compile(r"( ---> |Removing intermediate container )")
STEP_OUTPUT_KEPT = 30  # lines of the failing step quoted in the reason


def build_reference(version: ImageVersion) -> str:
    """Seed step 4: with a registry, build straight under the registry's name."""
    registry = version.cluster.registry
    return f"{registry}/{version.repository}:{version.tag}" if registry else f"{version.repository}:{version.tag}"


class _StepTracker:
    """Remembers the current step and its output, for the failure reason."""

    def __init__(self):
        self.header, self.output = "", deque(maxlen=STEP_OUTPUT_KEPT)

    def see(self, line: str) -> None:
        if _STEP.match(line):
            self.header, self.output = line, deque(maxlen=STEP_OUTPUT_KEPT)
        elif not _NOISE.match(line):
            self.output.append(line)

    def reason(self, error: str) -> str:
        where = self.header or "the build"
        shown = "\n".join(self.output) or "(no output)"
        return f"{where} failed: {error}\nOutput of the step:\n{shown}"


def run(version_id: int) -> str:
    version = transitions.start(version_id, Status.BUILDING, transitions.QUEUED_FOR_BUILD)
    if version is None:
        return "not queued for a build: nothing done"
    log = LogWriter(version.pk)
    try:
        return _build(version, log)
    finally:
        # Whatever escapes is the job lifecycle's to record (images/jobs.py).
        log.flush()


def _build(version: ImageVersion, log: LogWriter) -> str:
    try:
        text = version.render_dockerfile()
    except DockerfileError as error:
        transitions.finish(version, Status.ERRORED, f"refused: the Dockerfile is not valid ({error})")
        return version.status
    version.dockerfile = text
    version.save(update_fields=["dockerfile"])
    tag = build_reference(version)
    log.line(f"=== build {tag} on {engine.describe()} at {timezone.now():%Y-%m-%d %H:%M:%S %Z}")
    try:
        with engine.open_engine(version.cluster) as api:
            return _stream_build(version, api, tag, log)
    except engine.EngineUnavailable as error:
        log.line(f"ERROR: {error}")
        transitions.finish(version, Status.ERRORED, str(error))
        return version.status


def _stream_build(version: ImageVersion, api, tag: str, log: LogWriter) -> str:
    try:
        return _build_on(version, api, tag, log)
    except engine.CONNECTION_ERRORS as lost:
        log.flush()
        reason = f"the build engine {engine.describe()} failed during the build: {lost}"
        log.line(f"ERROR: {reason}")
        transitions.finish(version, Status.ERRORED, reason)
        return version.status


def _build_on(version: ImageVersion, api, tag: str, log: LogWriter) -> str:
    try:
        existing = api.inspect_image(tag)["Id"]
    except docker.errors.ImageNotFound:
        existing = None
    if existing:
        reason = (f"refused: the build engine already has an image tagged {tag} ({existing[:19]}). Tags are "
                  "immutable: choose a new tag (or remove that image from the engine if it is a leftover).")
        log.line(reason)
        transitions.finish(version, Status.ERRORED, reason)
        return version.status
    steps, error, image_id = _StepTracker(), None, None
    for chunk in api.build(fileobj=io.BytesIO(version.dockerfile.encode()), tag=tag, network_mode="none",
                           decode=True, rm=True, forcerm=True, pull=False):
        for line in log.feed(chunk.get("stream", "")):
            steps.see(line)
        if chunk.get("error"):
            error = chunk["error"].strip()
        elif chunk.get("status"):  # e.g. the engine trying to pull FROM
            log.feed(chunk["status"] + "\n")
        image_id = (chunk.get("aux") or {}).get("ID", image_id)
    log.flush()
    if error is not None:
        log.line(f"ERROR: {error}")
        transitions.finish(version, Status.FAILED, steps.reason(error))
        return version.status
    inspected = api.inspect_image(tag)
    if image_id and inspected["Id"] != image_id:
        reason = f"the engine reported image {image_id} but {tag} is {inspected['Id']}: another build raced this one"
        transitions.finish(version, Status.FAILED, reason)
        return version.status
    local = not version.cluster.registry
    note = " - local: the cluster has no registry, distribution streams it to the nodes" if local else ""
    log.line(f"=== built {inspected['Id']} ({inspected['Size']} bytes){note}")
    transitions.finish(version, Status.BUILT, image_id=inspected["Id"], size=inspected["Size"],
                       engine_reference=tag, local=local, built_at=timezone.now())
    return version.status
