"""A new version must not be named like an image the cluster runs or ran.

docker load, docker tag and docker pull re-point a name on a node: a version
named exactly like the image the config names (or like one a past rollout
activated) would, by "Distribute only…", replace what fence runs on every
DEA under the same name, with no rollout, canary or audit row, and leave
nothing to roll back to. So every name a version would have (repository:tag,
its engine and registry references) is compared, the way docker reads names
(docker.io/library/ and :latest implied), with the names the cluster has
used; a version keeps the names it was itself activated under."""

from images import references
from nodes.models import Node


def _key(text: str):
    """(registry, path, tag) as docker resolves the name; None if unusable."""
    try:
        ref = references.parse(text)
    except ValueError:
        return None
    domain = ref.domain or "docker.io"
    path = f"library/{ref.path}" if domain == "docker.io" and "/" not in ref.path else ref.path
    if ref.tag is None and ref.digest:
        return None  # by digest only: it names content, no tag it could re-point
    return domain, path, ref.tag or "latest"


def names_of(cluster, repository: str, tag: str, *extra: str) -> list[str]:
    names = [f"{repository}:{tag}", *[name for name in extra if name]]
    if cluster.registry:
        names.append(f"{cluster.registry}/{repository}:{tag}")
    return names


def _used_names(cluster, version=None) -> dict:
    """Every name the cluster's config named or a rollout activated, with where it was seen."""
    from images.models.rollout import Rollout

    used = {}

    def add(text, where):
        key = _key(text or "")
        if key and key not in used:
            used[key] = (text, where)

    for address, image in Node.objects.filter(cluster=cluster).exclude(desired_image="").values_list(
            "address", "desired_image"):
        add(image, f"the cluster config (as {address} last read it)")
    rollouts = Rollout.objects.filter(cluster=cluster)
    for previous, created, kind in rollouts.exclude(previous_image="").values_list("previous_image", "created_at", "kind"):
        add(previous, f"the active image when the {kind} of {created:%Y-%m-%d %H:%M} started")
    activated = rollouts.filter(distribute_only=False)
    if version is not None and version.pk:
        activated = activated.exclude(target=version)
    for target, created, kind, status in activated.values_list("target_image", "created_at", "kind", "status"):
        add(target, _what_became_of(f"the {kind} of {created:%Y-%m-%d %H:%M}", status))
    return used


def _what_became_of(rollout: str, status: str) -> str:
    """Its target, as its end tells it: a rolled-back rollout's image is no
    longer active (the nodes still hold it by name), a failed or cancelled
    one's may never have been."""
    from images.models.rollout import UNFINISHED, RolloutStatus

    if status == RolloutStatus.SUCCEEDED:
        return f"the image {rollout} activated"
    if status == RolloutStatus.ROLLED_BACK:
        return f"the image {rollout} set in the cluster config before it was rolled back"
    if status in UNFINISHED:
        return f"the target of {rollout} ({RolloutStatus(status).label})"
    return f"the target of {rollout}, which ended {RolloutStatus(status).label}"


def _own_names(version) -> set:
    """Names this version was itself activated under (rolled out, not only distributed)."""
    if version is None or not version.pk:
        return set()
    targets = version.rollouts.filter(distribute_only=False).values_list("target_image", flat=True)
    return {_key(target) for target in targets} - {None}


def collision(cluster, names, version=None) -> str | None:
    """Why these names may not be used for a new version of cluster, or None."""
    used, own = _used_names(cluster, version), _own_names(version)
    for name in names:
        key = _key(name)
        if key in used and key not in own:
            text, where = used[key]
            return (f"{name} is the name of {text}, {where}: a version with that name would replace it on the "
                    "nodes by name, with no rollout to undo. Choose another tag or repository.")
    return None


def version_collision(version) -> str | None:
    names = names_of(version.cluster, version.repository, version.tag, version.engine_reference,
                     version.registry_reference)
    return collision(version.cluster, names, version)

