""""New version from active image": seed steps 1-2. Read what fence runs
(`kato config get fence docker/image`, 3.4: the first of docker/images) on
the Core node and start a draft FROM it, with the next tag suggested."""
from django.db.models import Q

from images import references, registry, tags
from images.models import ImageVersion
from nodes import remote, ssh
from nodes.kato import Kato, KatoError


class ActiveImageError(Exception):
    """The active image could not be read, or is not something we can build FROM."""


def read_active_image(cluster) -> str:
    core = cluster.core_node
    if core is None:
        raise ActiveImageError(f"{cluster} has no node row for its Core address {cluster.core_address}; "
                               "add it (saving the cluster does) and trust its host key first.")
    with remote.session_pool() as pool:
        try:
            return Kato(pool.get(remote.endpoint(core))).desired_image(cluster.image_setting)
        except (ssh.SSHError, KatoError) as error:
            raise ActiveImageError(f"could not read the active image of {cluster} on its Core node: {error}") from None


def _repository(ref: references.Reference) -> str:
    # The path only: the cluster's registry host is added back at push, and a
    # new image FROM another registry's image lives in ours under the same path.
    return ref.path


def _taken_tags(cluster, repository: str) -> set[str]:
    taken = set(ImageVersion.objects.filter(cluster=cluster, repository=repository).values_list("tag", flat=True))
    if cluster.registry:
        try:
            taken |= set(registry.tags(cluster.registry, repository))
        except registry.RegistryError:
            pass  # a suggestion only: the build and the push check the registry again
    return taken


def _known_parent(cluster, text: str, ref: references.Reference) -> ImageVersion | None:
    ours = Q(registry_reference=text) | Q(engine_reference=text)
    if ref.digest:
        ours |= Q(manifest_digest=ref.digest, repository=ref.path)
    return ImageVersion.objects.filter(ours, cluster=cluster).first()


def draft_from_active(cluster, user) -> ImageVersion:
    text = read_active_image(cluster)
    try:
        ref = references.parse(text)
    except ValueError as error:
        raise ActiveImageError(f"the active image of {cluster} is not a reference we can build FROM: {error}") from None
    repository = _repository(ref)
    tag = tags.next_free_tag(ref.tag, _taken_tags(cluster, repository))
    version = ImageVersion(cluster=cluster, repository=repository, tag=tag, from_reference=text,
                           parent=_known_parent(cluster, text, ref), created_by=user,
                           created_by_username=user.get_username() if user else "")
    version.dockerfile = version.render_dockerfile()
    version.save()
    return version
