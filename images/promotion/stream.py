"""Promotion to a cluster without a registry: the image is pulled by its
digest from the source registry onto the console's build engine
(BUILD_DOCKER_HOST) and tagged <repository>:<tag> there, the name a local
version has (images/build.py). The version on the target is then local, and
its rollout streams it to each DEA with `docker save` piped into
`docker load` over SSH (images/rollouts/steps.py), checked by image id."""
import docker

from images import engine
from images.promotion.rules import PromotionFailed


def to_build_engine(row, log) -> dict:
    """The local version's engine fields (image_id, engine_reference)."""
    source = row.source
    name, local = f"{source.cluster.registry}/{source.repository}", f"{source.repository}:{source.tag}"
    log(f"{row.target_cluster} has no registry: pull {name}@{row.digest} onto the build engine "
        f"{engine.describe()}, to be streamed to each DEA by the rollout")
    with engine.open_engine(row.target_cluster) as api:
        try:
            _pull(api, name, row.digest, log)
            pulled = api.inspect_image(f"{name}@{row.digest}")
            if f"{name}@{row.digest}" not in (pulled.get("RepoDigests") or []):
                raise PromotionFailed(f"the digest differs: the build engine does not list {name}@{row.digest} "
                                      "among the pulled image's digests")
            try:
                existing = api.inspect_image(local)["Id"]
            except docker.errors.NotFound:
                existing = None
            if existing and existing != pulled["Id"]:
                raise PromotionFailed(f"the build engine already names another image {local} ({existing[:19]}); "
                                      "it was not retagged")
            api.tag(pulled["Id"], source.repository, source.tag)
        except engine.CONNECTION_ERRORS as lost:
            raise engine.EngineUnavailable(f"the build engine {engine.describe()} failed: {lost}") from None
        except docker.errors.APIError as error:
            raise PromotionFailed(f"the build engine {engine.describe()} refused: {error.explanation or error}") \
                from None
    log(f"the build engine holds {local} as {pulled['Id']}, pulled by digest {row.digest}")
    return {"image_id": pulled["Id"], "engine_reference": local}


def _pull(api, name: str, digest: str, log) -> None:
    error = None
    for chunk in api.pull(name, tag=digest, stream=True, decode=True):
        if chunk.get("error"):
            error = chunk["error"].strip()
        elif chunk.get("status") and not (chunk.get("progressDetail") or {}):
            log(f"{chunk['id']}: {chunk['status']}" if chunk.get("id") else chunk["status"])
    if error:
        raise PromotionFailed(f"the build engine could not pull {name}@{digest}: {error}")
