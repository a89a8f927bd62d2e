import pytest

from images.models import ImageVersion, RunStep
from nodes.models import Cluster


@pytest.fixture
def cluster(db):
    return Cluster.objects.create(name="prod", core_address="10.0.0.11")


@pytest.fixture
def make_version(cluster):
    def make(tag="1.0.0", steps=("echo hi",), **fields):
        version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/newimg", tag=tag,
                                              from_reference="stackato/app-holophonor:3.0.0")
        for position, command in enumerate(steps):
            RunStep.objects.create(version=version, position=position, command=command)
        # Steps first: once built (status, image_id) they could not be added.
        ImageVersion.objects.filter(pk=version.pk).update(**fields)
        version.refresh_from_db()
        return version
    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """admin_user's password is hashed once per test: PBKDF2 costs ~1 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
