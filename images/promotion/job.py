"""The promotion job: check the source registry holds the digest, copy it to
the target registry (images/promotion/skopeo.py), and record the version on
the target cluster only once the target registry's Docker-Content-Digest
equals the source's. `failed`: the copy ran and did not give that digest (or
the source has none); `errored`: a registry or skopeo could not be reached."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from images import engine, registry
from images.models import ImageVersion, Promotion, Status
from images.promotion import skopeo, stream
from images.promotion import rules
from images.promotion.rules import PromotionFailed
from job_runs import lifecycle
from job_runs.models import UNFINISHED, RunStatus


def run(promotion_id: str) -> str:
    claimed = Promotion.objects.filter(pk=promotion_id, status=RunStatus.QUEUED).update(status=RunStatus.RUNNING)
    row = Promotion.objects.select_related("source__cluster", "target_cluster").get(pk=promotion_id)
    if not claimed:
        return f"not queued ({row.status}): nothing done"
    try:
        _promote(row, row.append)
    except (registry.RegistryUnreachable, skopeo.CopyUnavailable, engine.EngineUnavailable) as error:
        _end(row, RunStatus.ERRORED, f"{error}. Nothing was recorded on {row.target_cluster}.")
    except (PromotionFailed, skopeo.CopyFailed, registry.RegistryError) as error:
        _end(row, RunStatus.FAILED, f"{error}. Nothing was recorded on {row.target_cluster}.")
    return row.status


def _end(row: Promotion, status: str, reason: str, target=None) -> None:
    row.append(("ERROR: " if status != RunStatus.SUCCEEDED else "=== ") + reason)
    row.finish(status, reason, target)


def _promote(row: Promotion, log) -> None:
    source, cluster = row.source, row.target_cluster
    origin, destination = source.cluster.registry, cluster.registry
    if not origin:
        raise PromotionFailed(f"{source.cluster} has no registry any more")
    # The POST checked these; rows may have changed while the job was queued,
    # and a copy into the target's registry is not undone by a later refusal.
    why = rules.refusal(source, cluster, promotion=row)
    if why:
        raise PromotionFailed(why.rstrip("."))
    if rules.target_reference(source, cluster) != row.target_reference:
        raise PromotionFailed(f"{cluster}'s registry is now {destination or 'none'}, not "
                              f"{row.target_reference.rpartition('/' + source.repository)[0] or 'none'} as when it was "
                              "requested: request the promotion again")
    log(f"=== promote {source} from {source.cluster} ({origin}) to {cluster} ({destination or 'no registry'}) "
        f"by digest {row.digest} at {timezone.now():%Y-%m-%d %H:%M:%S %Z}")
    if not registry.has_manifest(origin, source.repository, row.digest):
        raise PromotionFailed(f"the source registry {origin} has no manifest {row.digest} for {source.repository} "
                              "(deleted since it was pushed?)")
    if not destination:
        _record(row, **stream.to_build_engine(row, log), local=True, status=Status.BUILT)
        return
    registry.ping(destination)
    existing = registry.manifest_digest(destination, source.repository, source.tag)
    if existing == row.digest:
        log(f"{destination} already holds {source.repository}:{source.tag} as {existing} (an earlier attempt)")
    elif existing:
        raise PromotionFailed(f"{destination} already holds {source.repository}:{source.tag} as {existing}, not "
                              f"{row.digest}; tags are immutable, so it was not overwritten")
    else:
        skopeo.copy(origin, destination, source.repository, row.digest, source.tag, log)
    answered = registry.manifest_digest(destination, source.repository, source.tag)
    if answered != row.digest:
        raise PromotionFailed(f"the digest differs: {destination} serves {answered or 'no manifest'} for "
                              f"{source.repository}:{source.tag}, the source is {row.digest}")
    log(f"{destination} serves {source.repository}:{source.tag} as {answered}: the same digest")
    _record(row, status=Status.PUSHED, image_id=source.image_id, local=False, registry_reference=row.target_reference,
            manifest_digest=answered, pushed_at=timezone.now())


def _record(row: Promotion, **fields) -> None:
    """The version on the target cluster, and the promotion's end, together."""
    source, cluster = row.source, row.target_cluster
    try:
        with transaction.atomic():
            target = ImageVersion.objects.create(
                cluster=cluster, repository=source.repository, tag=source.tag, from_reference=source.from_reference,
                cmd=source.cmd, dockerfile=source.dockerfile, release_notes=source.release_notes, size=source.size,
                created_by=row.requested_by, created_by_username=row.requested_by_username,
                built_at=source.built_at, **fields)
            where = target.pull_reference if not target.local else \
                f"{target.engine_reference} on the build engine, streamed to each DEA by its rollout"
            _end(row, RunStatus.SUCCEEDED, f"{target} is on {cluster} as {where}: plan its rollout there", target)
    except IntegrityError:
        raise PromotionFailed(f"{cluster} got a version {source.repository}:{source.tag} meanwhile") from None


def end_errored(promotion_id, reason: str) -> None:
    """The job lifecycle's ending of a run that did not get to its end."""
    row = Promotion.objects.filter(pk=promotion_id, status__in=UNFINISHED).first()
    if row is not None:
        _end(row, RunStatus.ERRORED, reason)


def outcome(promotion_id, result: str) -> tuple[str, str]:
    row = Promotion.objects.get(pk=promotion_id)
    return (row.status if row.status in (RunStatus.FAILED, RunStatus.ERRORED)
            else RunStatus.SUCCEEDED), row.status_reason


@lifecycle.job(on_error=end_errored, outcome=outcome)
def promote_image_version(promotion_id: str) -> str:
    return run(promotion_id)
