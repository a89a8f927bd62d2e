"""Before a rollout: can every enabled DEA's engine pull the target from the
cluster's registry? Read from each node's refreshed facts (its engine's
`docker info` RegistryConfig), not asked live: the plan page and the start
stay quick and make no SSH call inside a request; a node never refreshed,
or whose engine did not say, counts as unable (refresh facts to clear it),
unless the registry is spoken to over HTTPS (not declared insecure), which
needs no setting on any engine."""
from images import registry, registry_trust


def blocked_nodes(cluster, reference: str) -> list[tuple]:
    """(node, PullCheck) for every enabled DEA that cannot pull reference.
    An image with no registry in its name (streamed from the build engine,
    or Docker Hub) is not checked here."""
    location = registry_trust.registry_of(reference)
    if location is None:
        return []
    blocked, https = [], registry.scheme(location) == "https"
    for node in cluster.nodes.filter(enabled=True).order_by("address"):
        if node.is_dea:
            verdict = registry_trust.check_node(node, location, https)
            if not verdict.can_pull:
                blocked.append((node, verdict))
    return blocked


def refusal(cluster, reference: str) -> str | None:
    blocked = blocked_nodes(cluster, reference)
    if not blocked:
        return None
    listed = "; ".join(f"{node.address}: {verdict}" for node, verdict in blocked)
    return (f"Not started: {len(blocked)} enabled DEA node(s) cannot pull {reference} from its registry. "
            f"{listed}.")
