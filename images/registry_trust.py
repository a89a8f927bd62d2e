"""Can a Docker engine pull from the cluster's registry?

A registry that speaks HTTPS: yes, on any engine, with no setting (Docker
tries HTTPS first, secure or not; the engine must trust its certificate,
which the console cannot see: a public CA, or
/etc/docker/certs.d/<host:port>/ca.crt on the node). A plain-HTTP registry
(the seed's): answered from the engine's own `docker info` RegistryConfig, with Docker's
rule (registry/config.go isSecureIndex): a registry listed in IndexConfigs
is insecure exactly when its entry says Secure false (an entry of
"insecure-registries" as host:port); otherwise it is insecure when its IP
is inside one of InsecureRegistryCIDRs (Docker always adds 127.0.0.0/8,
which is why the sandbox's loopback registry needs no setting). A secure
registry is spoken to over HTTPS only, which a plain-HTTP registry does not
answer: the pull fails. Registry mirrors apply to Docker Hub only and change
nothing here. Anything this cannot read counts as "cannot pull".
"""
import ipaddress
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PullCheck:
    can_pull: bool
    why: str
    fix: str = ""  # the setting the node needs, when it cannot pull

    def __str__(self):
        return f"{self.why}; needs {self.fix}" if self.fix else self.why


def needed_setting(location: str) -> str:
    return (f'"insecure-registries": ["{location}"] in /etc/docker/daemon.json, then a restart of its '
            "Docker daemon")


def registry_of(reference: str) -> str | None:
    """The registry host:port a reference names (Docker's rule: a first path
    component with "." or ":" or "localhost"), or None for Docker Hub."""
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def check(registry_config, location: str, https: bool = False) -> PullCheck:
    """https: the console speaks HTTPS to it, not declared insecure (images.registry.scheme)."""
    def cannot(why: str) -> PullCheck:
        return PullCheck(False, why, needed_setting(location))
    if https:
        return PullCheck(True, f"{location} speaks HTTPS (not declared insecure), which every engine uses first "
                               "(no insecure-registries entry needed; the engine must trust its certificate)")
    if not isinstance(registry_config, dict) or not isinstance(registry_config.get("IndexConfigs"), dict):
        # No setting to name: what the engine has is not known yet.
        return PullCheck(False, "its engine's registry settings are not known (facts never refreshed, or refreshed "
                                "before the console read them): refresh its facts (Nodes > Refresh facts)")
    entry = registry_config["IndexConfigs"].get(location)
    if isinstance(entry, dict) and isinstance(entry.get("Secure"), bool):
        if entry["Secure"]:
            return cannot(f"its engine lists {location} as a secure (HTTPS-only) registry; it speaks plain HTTP")
        return PullCheck(True, f"{location} is in its engine's insecure-registries")
    host = location.rsplit(":", 1)[0].strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # Docker resolves the name on the node to match it against the CIDRs:
        # nothing the console can see. Naming it host:port settles it.
        return cannot(f"its engine resolves {host} itself to decide whether {location} is insecure")
    for cidr in registry_config.get("InsecureRegistryCIDRs") or []:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except (TypeError, ValueError):
            continue
        if address.version == network.version and address in network:
            return PullCheck(True, f"{host} is inside its engine's insecure range {network}")
    return cannot(f"its engine treats the plain-HTTP registry {location} as secure (HTTPS only): it is neither "
                  "in its insecure-registries nor inside its insecure ranges")


def check_node(node, location: str, https: bool = False) -> PullCheck:
    """check() on a node's refreshed facts, saying when they were read: a
    node whose Docker settings changed since must be refreshed to be seen."""
    verdict = check(node.registry_config, location, https)
    if verdict.can_pull or node.registry_config is None or node.facts_refreshed_at is None:
        return verdict
    return replace(verdict, why=f"{verdict.why} (its engine's settings as of the facts refresh at "
                                f"{node.facts_refreshed_at:%Y-%m-%d %H:%M} UTC: if they changed since, refresh its facts)")
