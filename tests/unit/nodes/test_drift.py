"""Each drift state from the facts a refresh stores."""
import pytest

from nodes.drift import classify
from nodes.models import Node
from nodes.models.node import Drift

IMAGE = "stackato/app-holophonor:3.0.0"
NEW = "exampleco/newimg:1.0.0"


def dea(**facts):
    defaults = dict(address="10.0.0.12", roles=["dea"], host_key_type="ssh-ed25519", host_key="AAAA",
                    reachable=True, desired_image=IMAGE, fence_state="RUNNING", fence_image=IMAGE,
                    images=[{"ref": IMAGE, "id": "sha256:1", "digest": None}])
    defaults.update(facts)
    return Node(**defaults)


@pytest.mark.parametrize("facts, expected", [
    ({}, Drift.IN_SYNC),
    ({"desired_image": NEW, "images": [{"ref": IMAGE}, {"ref": NEW}]}, Drift.NOT_RESTARTED),
    ({"desired_image": NEW}, Drift.IMAGE_MISSING),
    ({"fence_state": "FATAL", "fence_image": ""}, Drift.FENCE_DOWN),
    ({"reachable": False}, Drift.UNREACHABLE),
    ({"reachable": None}, Drift.UNKNOWN),
    ({"host_key": ""}, Drift.HOST_KEY_UNKNOWN),
    ({"host_key_mismatch_fingerprint": "SHA256:other"}, Drift.HOST_KEY_CHANGED),
    # A node without the dea role runs no fence: nothing to drift.
    ({"roles": ["primary"], "fence_state": "", "fence_image": ""}, Drift.IN_SYNC),
])
def test_classify(facts, expected):
    assert classify(dea(**facts)) == expected
