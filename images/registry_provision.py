""""Provision registry on the Core node" (seed registry steps 1-3): find the
registry that runs on the Core node and record its location on the cluster.

Starting a registry container on a real Core node (`docker run -d
registry`, `docker port`) is not automated: this console has no registry
image to run there. So this checks the port the seed's registry uses and
records it only when a v2 registry answers; otherwise it says what to do.
"""
from images import registry

REGISTRY_PORT = 5000


class ProvisionError(Exception):
    pass


def location_for(cluster) -> str:
    return f"{cluster.core_address}:{REGISTRY_PORT}"


def provision(cluster) -> str:
    if cluster.registry:
        raise ProvisionError(f"{cluster} already has a registry: {cluster.registry}.")
    location = location_for(cluster)
    try:
        registry.ping(location)
    except registry.RegistryError as error:
        raise ProvisionError(
            f"No Docker registry answers at http://{location}/v2/ ({error}). Nothing was recorded. Starting one on "
            f"the Core node is not automated: run it there (seed registry steps 1-3, publishing port "
            f"{REGISTRY_PORT}) and try again.") from None
    cluster.registry = location
    cluster.save(update_fields=["registry"])
    return location
