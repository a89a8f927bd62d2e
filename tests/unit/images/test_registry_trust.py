"""Whether an engine may use the registry: any engine an HTTPS one; a
plain-HTTP one from its `docker info` RegistryConfig, by Docker's own rule
(images/registry_trust.py)."""
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from images.registry_trust import check, check_node, registry_of

DEFAULT_CIDRS = ["::1/128", "127.0.0.0/8"]  # what Docker 26 adds by itself
HUB = {"docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True, "Official": True}}


def config(index=None, cidrs=DEFAULT_CIDRS, mirrors=()):
    return {"IndexConfigs": {**HUB, **(index or {})}, "InsecureRegistryCIDRs": list(cidrs), "Mirrors": list(mirrors)}


def insecure(location):
    return {location: {"Name": location, "Mirrors": [], "Secure": False, "Official": False}}


@pytest.mark.parametrize("case, registry_config, location, can_pull", [
    ("loopback, Docker's default range", config(), "127.0.0.11:5000", True),
    ("loopback, another port", config(), "127.0.25.11:40123", True),
    ("private address, nothing set", config(), "10.0.0.5:5000", False),
    ("listed in insecure-registries as host:port", config(insecure("10.0.0.5:5000")), "10.0.0.5:5000", True),
    ("listed with another port only", config(insecure("10.0.0.5:5001")), "10.0.0.5:5000", False),
    ("inside an insecure CIDR", config(cidrs=["10.0.0.0/8", "127.0.0.0/8"]), "10.0.0.5:5000", True),
    ("outside every insecure CIDR", config(cidrs=["192.168.0.0/16", "127.0.0.0/8"]), "10.0.0.5:5000", False),
    ("a secure entry wins over a matching CIDR",
     config({"10.0.0.5:5000": {"Name": "10.0.0.5:5000", "Mirrors": [], "Secure": True, "Official": False}},
            cidrs=["10.0.0.0/8"]), "10.0.0.5:5000", False),
    ("loopback removed from the CIDRs", config(cidrs=[]), "127.0.0.11:5000", False),
    ("only a registry mirror (Docker Hub's) names it", config(mirrors=["http://10.0.0.5:5000/"]), "10.0.0.5:5000",
     False),
    ("a mirror and insecure-registries", config(insecure("10.0.0.5:5000"), mirrors=["http://10.0.0.5:5000/"]),
     "10.0.0.5:5000", True),
    ("a host name Docker would resolve itself", config(cidrs=["10.0.0.0/8"]), "registry.example:5000", False),
    ("a host name listed as host:port", config(insecure("registry.example:5000")), "registry.example:5000", True),
    ("IPv4 registry, IPv6 range only", config(cidrs=["::/0"]), "10.0.0.5:5000", False),
    ("CIDR entries that are not ranges are ignored", config(cidrs=[{"IP": "x"}, "nonsense", "10.0.0.0/8"]),
     "10.0.0.5:5000", True),
    ("never refreshed (no facts)", None, "127.0.0.11:5000", False),
    ("an engine that printed no IndexConfigs", {"InsecureRegistryCIDRs": ["127.0.0.0/8"]}, "127.0.0.11:5000",
     False),
    ("not a map at all", ["127.0.0.0/8"], "127.0.0.11:5000", False),
])
def test_decision_table(case, registry_config, location, can_pull):
    verdict = check(registry_config, location)
    assert verdict.can_pull is can_pull, (case, str(verdict))
    if can_pull:
        assert verdict.fix == ""
    elif not isinstance(registry_config, dict) or "IndexConfigs" not in registry_config:
        # Nothing known of the engine: no setting to name, its facts to refresh.
        assert verdict.fix == "" and "refresh its facts (Nodes > Refresh facts)" in verdict.why, case
    else:
        # The exact daemon.json line the node needs, whatever the reason.
        assert verdict.fix.startswith(f'"insecure-registries": ["{location}"] in /etc/docker/daemon.json'), case
    # A registry that speaks HTTPS needs no setting on any engine, even one never refreshed.
    over_https = check(registry_config, location, https=True)
    assert over_https.can_pull and over_https.fix == "" and "speaks HTTPS" in over_https.why, case


def test_the_reasons_say_what_the_engine_reported():
    assert "not known (facts never refreshed" in check(None, "10.0.0.5:5000").why
    assert "as a secure (HTTPS-only) registry" in check(
        config({"10.0.0.5:5000": {"Secure": True}}), "10.0.0.5:5000").why
    assert "inside its engine's insecure range 127.0.0.0/8" in check(config(), "127.0.0.11:5000").why
    assert "resolves registry.example itself" in check(config(), "registry.example:5000").why


@pytest.mark.parametrize("reference, registry", [
    ("10.0.0.5:5000/exampleco/newimg:1.0@sha256:" + "a" * 64, "10.0.0.5:5000"),
    ("127.0.0.11:5000/stackato/app-holophonor:3.0.1", "127.0.0.11:5000"),
    ("registry.example/team/image:1", "registry.example"),
    ("localhost/image:1", "localhost"),
    ("exampleco/newimg:1.0", None),  # Docker Hub (or a local image streamed to the nodes)
    ("stackato/app-holophonor:3.0.0", None),
    ("busybox", None),
])
def test_registry_of_a_reference(reference, registry):
    assert registry_of(reference) == registry


def test_a_node_refused_on_refreshed_facts_is_told_when_they_were_read():
    refreshed = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    node = SimpleNamespace(registry_config=config(), facts_refreshed_at=refreshed)
    verdict = check_node(node, "10.0.0.5:5000")
    assert not verdict.can_pull and verdict.fix.startswith('"insecure-registries": ["10.0.0.5:5000"]')
    assert verdict.why.endswith("(its engine's settings as of the facts refresh at 2026-11-02 09:30 UTC: if they "
                                "changed since, refresh its facts)")
    assert check_node(node, "127.0.0.11:5000").why == check(config(), "127.0.0.11:5000").why  # can pull: as it is
    never = SimpleNamespace(registry_config=None, facts_refreshed_at=None)
    assert check_node(never, "10.0.0.5:5000") == check(None, "10.0.0.5:5000")
    assert check_node(never, "10.0.0.5:5000", https=True).can_pull
