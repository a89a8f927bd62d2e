"""Which way a node is out of line with its cluster's config.

Pure: computed from the facts stored on the node, so the changelist can
filter on the stored value and counts per cluster are one GROUP BY.
"""
from nodes.models.node import Drift


def classify(node) -> str:
    # Order matters: what blocks us from knowing anything comes first.
    if not node.is_trusted:
        return Drift.HOST_KEY_UNKNOWN
    if node.host_key_mismatch_fingerprint:
        return Drift.HOST_KEY_CHANGED
    if node.reachable is None:
        return Drift.UNKNOWN
    if not node.reachable:
        return Drift.UNREACHABLE
    if not node.is_dea:
        return Drift.IN_SYNC  # no fence here: nothing to drift
    if node.desired_image and node.desired_image not in node.image_refs:
        return Drift.IMAGE_MISSING
    if node.fence_state != "RUNNING":
        return Drift.FENCE_DOWN
    if node.desired_image and node.fence_image != node.desired_image:
        return Drift.NOT_RESTARTED
    return Drift.IN_SYNC
