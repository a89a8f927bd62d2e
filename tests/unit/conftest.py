"""Unit tests: no services off this machine."""
import pytest

from nodes.models import Cluster


@pytest.fixture(autouse=True)
def registries_off_loopback_are_declared_insecure(settings):
    """Unit tests name registries such as 10.0.0.11:5000 that nothing may
    contact, as the seed's plain-HTTP ones: declared insecure, as an operator
    would (besides the suite's 127.0.0.0/8, tests/conftest.py). A test about
    the declaration sets INSECURE_REGISTRIES itself."""
    settings.INSECURE_REGISTRIES = [*settings.INSECURE_REGISTRIES, "10.0.0.0/8"]


# Two clusters with registries, for promotion from one to the other (the
# admin's and the API's tests: tests/unit/images/test_promotion.py,
# tests/unit/api/test_api_promotions.py). Nothing at these addresses is contacted.
@pytest.fixture
def staging(db):
    return Cluster.objects.create(name="staging", core_address="10.0.0.11", registry="10.0.0.11:5000")


@pytest.fixture
def production(db):
    return Cluster.objects.create(name="production", core_address="10.1.0.11", registry="10.1.0.11:5000")
