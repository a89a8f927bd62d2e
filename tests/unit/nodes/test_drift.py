"""Each drift state from the facts a refresh stores."""
from datetime import datetime, timedelta, timezone

import pytest

from nodes.drift import classify
from nodes.models import Cluster, Node
from nodes.models.node import Drift

IMAGE = "stackato/app-holophonor:3.0.0"
NEW = "exampleco/newimg:1.0.0"
CHANGED = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)  # when the console set (or first saw) NEW


def dea(cluster_image=IMAGE, since=None, **facts):
    defaults = dict(address="10.0.0.12", roles=["dea"], host_key_type="ssh-ed25519", host_key="AAAA",
                    reachable=True, desired_image=IMAGE, fence_state="RUNNING",
                    fence_started_at=CHANGED - timedelta(hours=1),
                    images=[{"ref": IMAGE, "id": "sha256:1", "digest": None}])
    defaults.update(facts)
    # What config_history.record leaves: the one value, from `since` (None: not dated).
    cluster = Cluster(name="c", core_address="10.0.0.11", desired_image=cluster_image, desired_image_since=since,
                      desired_image_history=[{"image": cluster_image, "since": since and since.isoformat()}])
    return Node(cluster=cluster, **defaults)


BOTH = [{"ref": IMAGE}, {"ref": NEW}]


@pytest.mark.parametrize("cluster, facts, expected", [
    ({}, {}, Drift.IN_SYNC),
    # fence started an hour before the console changed the config to NEW
    ({"cluster_image": NEW, "since": CHANGED}, {"desired_image": NEW, "images": BOTH}, Drift.NOT_RESTARTED),
    # ... and after it (supervisord's whole seconds are tolerated)
    ({"cluster_image": NEW, "since": CHANGED},
     {"desired_image": NEW, "images": BOTH, "fence_started_at": CHANGED + timedelta(seconds=3)}, Drift.IN_SYNC),
    ({"cluster_image": NEW, "since": CHANGED},
     {"desired_image": NEW, "images": BOTH, "fence_started_at": CHANGED - timedelta(seconds=1)}, Drift.IN_SYNC),
    # a change the console never dated (seen on its first read of the cluster): nothing says fence missed it
    ({"cluster_image": NEW, "since": None}, {"desired_image": NEW, "images": BOTH}, Drift.IN_SYNC),
    # no start time (supervisord could not be asked): not claimed either way
    ({"cluster_image": NEW, "since": CHANGED}, {"desired_image": NEW, "images": BOTH, "fence_started_at": None},
     Drift.IN_SYNC),
    ({}, {"desired_image": NEW}, Drift.IMAGE_MISSING),
    ({}, {"fence_state": "FATAL"}, Drift.FENCE_DOWN),
    ({}, {"fence_state": "ROGUE"}, Drift.FENCE_DOWN),
    ({}, {"reachable": False}, Drift.UNREACHABLE),
    ({}, {"reachable": None}, Drift.UNKNOWN),
    ({}, {"host_key": ""}, Drift.HOST_KEY_UNKNOWN),
    ({}, {"host_key_mismatch_fingerprint": "SHA256:other"}, Drift.HOST_KEY_CHANGED),
    # A node without the dea role runs no fence: nothing to drift.
    ({}, {"roles": ["primary"], "fence_state": ""}, Drift.IN_SYNC),
])
def test_classify(cluster, facts, expected):
    assert classify(dea(**cluster, **facts)) == expected
