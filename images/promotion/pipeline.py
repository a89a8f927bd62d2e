"""The small pipeline a version's page shows: the cluster it was first built
on, then each cluster it was promoted to (from the Promotion rows), and for
each where the version runs now: whether the cluster's newest succeeded
rollout activated it, and on which DEAs the config named it with fence
RUNNING at the last facts refresh. Pure reading of rows."""
from dataclasses import dataclass, field

from images.models import Promotion, Rollout
from images.models.rollout import RolloutStatus


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


def origin(version):
    """Back along the promotions to the version that was built, not copied."""
    seen = {version.pk}
    while (came := Promotion.objects.filter(target=version).select_related("source").first()) is not None:
        if came.source_id in seen:
            break
        version = came.source
        seen.add(version.pk)
    return version


def _stage(version, promotion=None) -> Stage:
    newest = (Rollout.objects.filter(cluster=version.cluster, status=RolloutStatus.SUCCEEDED, distribute_only=False)
              .order_by("-finished_at", "-created_at").values_list("target_id", flat=True).first())
    deas = [node for node in version.cluster.nodes.all() if node.is_dea]
    name = version.registry_reference or (version.engine_reference if version.local else "")
    running = [node.address for node in deas
               if name and node.desired_image == name and node.fence_state == "RUNNING"]
    return Stage(cluster=version.cluster, version=version, promotion=promotion, active=newest == version.pk,
                 running_on=running, dea_count=len(deas))


def pipeline(version) -> list[Stage]:
    """Stages from the origin outwards, each promotion after its source;
    a promotion that has not (yet) made a version is a stage without one."""
    first = origin(version)
    stages, queue, seen = [_stage(first)], [first], {first.pk}
    while queue:
        source = queue.pop(0)
        for promotion in source.promotions.select_related("target_cluster", "target__cluster").order_by("created_at"):
            if promotion.target is None:
                if not promotion.target_cluster.image_versions.filter(promoted_from__source=source).exists():
                    stages.append(Stage(cluster=promotion.target_cluster, promotion=promotion))
                continue
            if promotion.target_id in seen:
                continue
            seen.add(promotion.target_id)
            stages.append(_stage(promotion.target, promotion))
            queue.append(promotion.target)
    return stages
