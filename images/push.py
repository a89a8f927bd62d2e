"""The push job: seed registry steps 4-5 (tag <registry>/<repository>:<tag>,
push), then the digest the engine reports is checked against the registry's
own Docker-Content-Digest before the version counts as pushed. Until then
registry_reference and manifest_digest stay empty: no half-registered version."""
import docker
from django.utils import timezone

from images import engine, registry, registry_trust, transitions
from images.log_writer import LogWriter
from images.models import ImageVersion, Status


class PushFailed(Exception):
    """The push ran and did not end with a verified manifest in the registry."""


def target(version: ImageVersion) -> tuple[str, str]:
    """(repository with registry host, tag) to push to."""
    return f"{version.cluster.registry}/{version.repository}", version.tag


def run(version_id: int) -> str:
    version = transitions.start(version_id, Status.PUSHING, transitions.QUEUED_FOR_PUSH)
    if version is None:
        return "not queued for a push: nothing done"
    log = LogWriter(version.pk)
    try:
        return _push(version, log)
    finally:
        # Whatever escapes is the job lifecycle's to record (images/jobs.py).
        log.flush()


def _push(version: ImageVersion, log: LogWriter) -> str:
    location = version.cluster.registry
    if not location:
        # Provisioning may have been undone since the push was queued.
        log.line("=== no registry: the version stays local")
        transitions.finish(version, Status.BUILT, local=True)
        return version.status
    repository, tag = target(version)
    log.line(f"=== push {repository}:{tag} from {engine.describe()} at {timezone.now():%Y-%m-%d %H:%M:%S %Z}")
    try:
        with engine.open_engine(version.cluster) as api:
            try:
                _engine_may_use(api, location, log)
                pushed = _already_there(api, version, location, repository, log) or \
                    _stream_push(api, version, repository, tag, log)
            except engine.CONNECTION_ERRORS as lost:
                raise engine.EngineUnavailable(
                    f"the build engine {engine.describe()} failed during the push: {lost}") from None
        answered = registry.manifest_digest(location, version.repository, tag)
    except engine.EngineUnavailable as error:
        log.line(f"ERROR: {error}")
        transitions.finish(version, Status.ERRORED, str(error))
        return version.status
    except (PushFailed, registry.RegistryError) as error:
        reason = f"push to {location} failed: {error}. Nothing was recorded as pushed."
        log.line(f"ERROR: {reason}")
        transitions.finish(version, Status.FAILED, reason)
        return version.status
    if answered != pushed:
        reason = (f"push to {location} failed verification: the engine pushed {pushed} but the registry serves "
                  f"{answered or 'no manifest'} for {version.repository}:{tag}. Nothing was recorded as pushed.")
        log.line(f"ERROR: {reason}")
        transitions.finish(version, Status.FAILED, reason)
        return version.status
    log.line(f"=== pushed {repository}:{tag}@{pushed} (the registry's Docker-Content-Digest agrees)")
    transitions.finish(version, Status.PUSHED, registry_reference=f"{repository}:{tag}", manifest_digest=pushed,
                       local=False, pushed_at=timezone.now())
    return version.status


def _engine_may_use(api, location: str, log: LogWriter) -> None:
    """An HTTPS registry needs no setting; the engine speaks plain HTTP to the
    registry only if its own settings say so (images/registry_trust.py):
    otherwise say which setting it needs."""
    verdict = registry_trust.check(api.info().get("RegistryConfig"), location, registry.scheme(location) == "https")
    if not verdict.can_pull:
        needs = f"; it needs {verdict.fix}" if verdict.fix else ""
        raise PushFailed(f"the build engine {engine.describe()} cannot use it: {verdict.why}{needs}")
    log.line(f"the build engine may use {location}: {verdict.why}")


def _already_there(api, version: ImageVersion, location: str, repository: str, log: LogWriter) -> str | None:
    """Asked before pushing, so a registry that is down fails before anything
    moves and a tag pushed by someone else is never overwritten. The one
    exception is this very image, pushed by an earlier attempt whose worker
    died before saving: the engine lists that digest among the image's own."""
    existing = registry.manifest_digest(location, version.repository, version.tag)
    if not existing:
        return None
    try:
        own = api.inspect_image(version.image_id).get("RepoDigests") or []
    except docker.errors.NotFound:
        own = []
    if f"{repository}@{existing}" in own:
        log.line(f"the registry already holds this image as {existing} (an earlier push of this version)")
        return existing
    raise PushFailed(f"the registry already holds {version}, as {existing}; tags are immutable, so it was "
                     "not overwritten (build a new version with a new tag)")


def _stream_push(api, version: ImageVersion, repository: str, tag: str, log: LogWriter) -> str:
    try:
        api.tag(version.image_id, repository, tag)
    except docker.errors.NotFound:
        raise PushFailed(f"the built image {version.image_id[:19]} is no longer on the build engine "
                         f"{engine.describe()}; build a new version") from None
    digest, error = None, None
    for chunk in api.push(repository, tag=tag, stream=True, decode=True):
        if chunk.get("error"):
            error = chunk["error"].strip()
            log.line(f"ERROR: {error}")
        elif chunk.get("status") and not (chunk.get("progressDetail") or {}):
            # Progress bars repeat many times a second; only state changes are kept.
            log.line(f"{chunk['id']}: {chunk['status']}" if chunk.get("id") else chunk["status"])
        digest = (chunk.get("aux") or {}).get("Digest", digest)
    if error:
        raise PushFailed(error)
    if not digest:
        raise PushFailed("the engine's push stream ended without reporting a manifest digest")
    return digest
