import functools

import pytest

from nodes.models import Cluster
from support.image_versions import draft_version


@pytest.fixture
def cluster(db):
    return Cluster.objects.create(name="prod", core_address="10.0.0.11")


@pytest.fixture
def make_version(cluster):
    """A version of the cluster written directly (support.image_versions.draft_version)."""
    return functools.partial(draft_version, cluster)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """admin_user's password is hashed once per test: PBKDF2 costs ~1 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
