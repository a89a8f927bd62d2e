"""The small pipeline a version's page shows: the cluster it was first built
on, then each cluster it was promoted to (from the Promotion rows), and for
each where the version runs now: whether the cluster's newest succeeded
rollout activated it, and on which DEAs the config named it with fence
RUNNING at the last facts refresh. Pure reading of rows, in a constant
number of queries however long the pipeline: every promotion of one image
carries its digest, so one query finds them all and the walk is in memory.
"""
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from images.models import Promotion, Rollout
from images.models.rollout import RolloutStatus
from nodes.models import Cluster, Node


@dataclass
class Stage:
    cluster: object
    version: object = None  # None while (or because) the promotion to this cluster did not end with a version
    promotion: object = None  # how it got here; None for the cluster it was built on
    active: bool = False
    running_on: list = field(default_factory=list)  # DEA addresses
    dea_count: int = 0

    @property
    def state(self) -> str:
        if self.version is None:
            return f"promotion {self.promotion.status}"
        return "active" if self.active else "not active"


def _family(version) -> list[Promotion]:
    """Every promotion of this image, oldest first. A version copied by
    registry has the digest itself; one streamed to a registry-less cluster
    has none of its own (and goes no further), its promotion has it."""
    digest = version.manifest_digest or (
        Promotion.objects.filter(target=version).values_list("digest", flat=True).first())
    if not digest:
        return []
    return list(Promotion.objects.filter(digest=digest).order_by("created_at")
                .select_related("source__cluster", "target__cluster", "target_cluster"))


def _origin(version, came_from: dict):
    """Back along the promotions to the version that was built, not copied."""
    seen = {version.pk}
    while version.pk in came_from and came_from[version.pk].source_id not in seen:
        version = came_from[version.pk].source
        seen.add(version.pk)
    return version


def _where_they_run(stages: list[Stage]) -> None:
    """Active (the newest succeeded rollout's target) and DEAs running it,
    for every stage's cluster in two queries."""
    ids = {stage.cluster.pk for stage in stages if stage.version is not None}
    newest = (Rollout.objects.filter(cluster=OuterRef("pk"), status=RolloutStatus.SUCCEEDED, distribute_only=False)
              .order_by("-finished_at", "-created_at").values("target_id")[:1])
    active = dict(Cluster.objects.filter(pk__in=ids).annotate(active=Subquery(newest)).values_list("pk", "active"))
    deas = {}
    for node in Node.objects.filter(cluster_id__in=ids).order_by("address"):
        if node.is_dea:
            deas.setdefault(node.cluster_id, []).append(node)
    for stage in stages:
        if stage.version is None:
            continue
        version, nodes = stage.version, deas.get(stage.cluster.pk, [])
        name = version.registry_reference or (version.engine_reference if version.local else "")
        stage.active = active.get(stage.cluster.pk) == version.pk
        stage.running_on = [node.address for node in nodes
                            if name and node.desired_image == name and node.fence_state == "RUNNING"]
        stage.dea_count = len(nodes)


def pipeline(version) -> list[Stage]:
    """Stages from the origin outwards, each promotion after its source. A
    cluster the image did not (yet) reach from a source is one stage without
    a version, showing its newest attempt, however many failed."""
    promotions = _family(version)
    came_from = {p.target_id: p for p in promotions if p.target_id is not None}
    outgoing = {}
    for promotion in promotions:
        outgoing.setdefault(promotion.source_id, []).append(promotion)
    first = _origin(version, came_from)
    stages, queue, seen = [Stage(cluster=first.cluster, version=first)], [first], {first.pk}
    while queue:
        source = queue.pop(0)
        reached = {p.target_cluster_id for p in outgoing.get(source.pk, []) if p.target_id is not None}
        attempts = {}  # target cluster -> its stage without a version
        for promotion in outgoing.get(source.pk, []):
            if promotion.target_id is None:
                if promotion.target_cluster_id in reached:
                    continue
                if promotion.target_cluster_id in attempts:
                    attempts[promotion.target_cluster_id].promotion = promotion  # a newer attempt
                    continue
                attempts[promotion.target_cluster_id] = Stage(cluster=promotion.target_cluster, promotion=promotion)
                stages.append(attempts[promotion.target_cluster_id])
                continue
            if promotion.target_id in seen:
                continue
            seen.add(promotion.target_id)
            stages.append(Stage(cluster=promotion.target.cluster, version=promotion.target, promotion=promotion))
            queue.append(promotion.target)
    _where_they_run(stages)
    return stages
