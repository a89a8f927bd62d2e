"""What the cluster registry holds (v2 API), next to the versions we know."""
from dataclasses import dataclass

from images import registry
from images.models import ImageVersion

DIGESTS_MAX = 200  # HEAD requests per page view; beyond, digests are not shown


@dataclass
class TagRow:
    repository: str
    tag: str
    digest: str | None
    version: ImageVersion | None

    @property
    def state(self) -> str:
        if self.version is None:
            return "unknown"
        if self.version.manifest_digest and self.digest and self.version.manifest_digest != self.digest:
            return "known, but the registry serves another digest"
        return "known"


def list_tags(cluster) -> tuple[list[TagRow], bool]:
    """(rows, truncated); RegistryError when the registry cannot be read."""
    known = {(v.repository, v.tag): v for v in ImageVersion.objects.filter(cluster=cluster)}
    rows, lookups, skipped = [], 0, 0
    for repository in registry.repositories(cluster.registry):
        for tag in registry.tags(cluster.registry, repository):
            digest = None
            if lookups < DIGESTS_MAX:
                digest = registry.manifest_digest(cluster.registry, repository, tag)
                lookups += 1
            else:
                skipped += 1
            rows.append(TagRow(repository, tag, digest, known.get((repository, tag))))
    return rows, skipped > 0
