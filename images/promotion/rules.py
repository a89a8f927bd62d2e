"""Which versions may be promoted where, and the request that queues one.
Pure reading of rows until request() creates the Promotion and queues it."""
from django.db import IntegrityError, transaction

from images.models import ImageVersion, Promotion, Rollout
from images.models.rollout import RolloutStatus
from job_runs.models import UNFINISHED
from nodes.models import Cluster
from stackato_dash import queueing


# The Promotion model's own permissions, wherever one is requested (admin,
# API, manage.py) or read: the Release manager's and every role's.
REQUEST_PERMISSION = "images.add_promotion"
VIEW_PERMISSION = "images.view_promotion"


class PromotionRefused(Exception):
    """Nothing was queued; the message says why."""


class PromotionFailed(Exception):
    """The promotion ran and did not end with the same image on the target."""


def qualifying_rollout(version) -> Rollout | None:
    """The newest succeeded rollout on the version's own cluster that activated it."""
    return (Rollout.objects.filter(cluster=version.cluster, target=version, status=RolloutStatus.SUCCEEDED,
                                   distribute_only=False).order_by("-finished_at", "-created_at").first())


def target_reference(version, cluster) -> str:
    """Its name on the target: in the target's registry, or (no registry) on the build engine."""
    if not cluster.registry:
        return f"{version.repository}:{version.tag}"
    return f"{cluster.registry}/{version.repository}:{version.tag}"


def refusal(version, cluster, promotion=None) -> str:
    """Why version may not be promoted to cluster ("" when it may). The job
    asks again for its own promotion (which is then not "already queued")."""
    if cluster.pk == version.cluster_id:
        return f"{version} is already on {cluster}: promote it to another cluster."
    if not version.manifest_digest or not version.registry_reference:
        return (f"{version} has no digest in a registry ({version.status}{', local' if version.local else ''}): "
                "only a version pushed to its cluster's registry can be promoted by digest.")
    if qualifying_rollout(version) is None:
        return (f"{version} never succeeded on {version.cluster}: only a version whose rollout there succeeded "
                "can be promoted. Roll it out there first.")
    existing = ImageVersion.objects.filter(cluster=cluster, repository=version.repository, tag=version.tag).first()
    if existing is not None:
        if existing.manifest_digest == version.manifest_digest or (existing.local and existing.image_id == version.image_id):
            return f"{version} is already on {cluster} with the same digest: roll that version out there."
        return (f"{cluster} already has a version {existing} ({existing.manifest_digest[:19] or existing.status}), "
                "not this digest; tags are immutable, so nothing would be overwritten.")
    others = Promotion.objects.filter(source=version, target_cluster=cluster, status__in=UNFINISHED)
    if promotion is not None:
        others = others.exclude(pk=promotion.pk)
    if others.exists():
        return f"A promotion of {version} to {cluster} is already queued or running."
    return ""


def effect(version, cluster) -> str:
    if not cluster.registry:
        return (f"{cluster} has no registry: pull {version.pull_reference} onto the build engine as "
                f"{target_reference(version, cluster)}; its rollout streams it to each DEA.")
    return (f"Copy {version.pull_reference} to {target_reference(version, cluster)} by digest, "
            f"then plan the rollout on {cluster}.")


def candidates(version) -> list[Cluster]:
    return list(Cluster.objects.exclude(pk=version.cluster_id).order_by("name"))


def request(version, cluster, user) -> Promotion:
    """Create the row and queue the copy job after commit. Raises PromotionRefused."""
    from images.promotion import job  # the job module imports the models this module reads

    why = refusal(version, cluster)
    if why:
        raise PromotionRefused(why)
    try:
        queueing.require_worker()
    except queueing.NoWorker as error:
        raise PromotionRefused(str(error)) from None
    try:
        with transaction.atomic():
            row = Promotion.objects.create(
                source=version, source_rollout=qualifying_rollout(version), target_cluster=cluster,
                digest=version.manifest_digest, source_reference=version.pull_reference,
                target_reference=target_reference(version, cluster), requested_by=user,
                requested_by_username=user.get_username())
            queueing.enqueue_on_commit(job.promote_image_version, str(row.pk), job_id=str(row.pk),
                                       description=f"Promote {version} to {cluster}")
    except IntegrityError:
        # Another request passed the check above at the same moment and its
        # row is in (the model's one-unfinished constraint): its refusal now.
        why = refusal(version, cluster)
        if why:
            raise PromotionRefused(why) from None
        raise
    return row
