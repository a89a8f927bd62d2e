"""Unit tests: no services off this machine."""
import ipaddress

import pytest

from images import registry
from nodes.models import Cluster


@pytest.fixture(autouse=True)
def registries_off_loopback_are_not_asked(monkeypatch):
    """Unit tests name registries such as 10.0.0.11:5000 that nothing may
    contact: those count as plain HTTP without a TLS probe. A registry on
    loopback (a real server a test started) is probed as in production."""
    probe = registry.scheme

    def scheme(location: str) -> str:
        host = location.rpartition(":")[0] or location
        try:
            on_loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            on_loopback = host == "localhost"
        return probe(location) if on_loopback else "http"
    monkeypatch.setattr(registry, "scheme", scheme)


# Two clusters with registries, for promotion from one to the other (the
# admin's and the API's tests: tests/unit/images/test_promotion.py,
# tests/unit/api/test_api_promotions.py). Nothing at these addresses is contacted.
@pytest.fixture
def staging(db):
    return Cluster.objects.create(name="staging", core_address="10.0.0.11", registry="10.0.0.11:5000")


@pytest.fixture
def production(db):
    return Cluster.objects.create(name="production", core_address="10.1.0.11", registry="10.1.0.11:5000")
