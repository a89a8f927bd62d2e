"""Which way a node is out of line with its cluster's config.

Pure: computed from the facts stored on the node and its cluster, so the
changelist can filter on the stored value and counts per cluster are one
GROUP BY. kato says nothing about which image fence runs, so "not restarted"
is a matter of time: fence (supervisord's start time) started before the
cluster's current desired image was set (or first seen) by the console.
"""
from datetime import timedelta

from nodes.models.node import Drift

# supervisord reports start times in whole seconds.
START_SLACK = timedelta(seconds=2)


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
    if started_before_change(node):
        return Drift.NOT_RESTARTED
    return Drift.IN_SYNC


def started_before_change(node) -> bool:
    cluster = node.cluster
    since = cluster.desired_image_since
    if since is None or not node.fence_started_at or node.desired_image != cluster.desired_image:
        return False  # no dated change, or no start time: nothing says fence missed it
    return node.fence_started_at < since - START_SLACK
