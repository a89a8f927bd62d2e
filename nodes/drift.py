"""Which way a node is out of line with its cluster's config.

Pure: computed from the facts stored on the node and its cluster, so the
changelist can filter on the stored value and counts per cluster are one
GROUP BY. kato says nothing about which image fence runs, so "not restarted"
is a matter of time: the image the config named when fence started
(supervisord's start time), in the cluster's config history, is not the one
it names now.
"""
from datetime import timedelta

from nodes import config_history
from nodes.models.node import Drift

# supervisord reports start times in whole seconds.
START_SLACK = timedelta(seconds=2)


def classify(node, expected: dict | None = None) -> str:
    """expected: what the console rolled out under the desired name
    (expected_image()); without it nothing is claimed about the content."""
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
    if expected and holds_other_image(node, expected):
        return Drift.IMAGE_DIFFERS
    if node.fence_state != "RUNNING":
        return Drift.FENCE_DOWN
    if started_before_change(node):
        return Drift.NOT_RESTARTED
    return Drift.IN_SYNC


def started_before_change(node) -> bool:
    """fence runs what the config named when it started: another image than
    the config names now means it was not restarted since the change."""
    cluster = node.cluster
    history = cluster.desired_image_history
    if not history or not node.fence_started_at or node.desired_image != cluster.desired_image:
        return False  # nothing recorded, or no start time: nothing says fence missed it
    # A value from before the history (None) was another one: the oldest entry is a change to it.
    return config_history.named_at(history, node.fence_started_at + START_SLACK) != cluster.desired_image


def expected_image(node) -> dict | None:
    """{"digest": ..., "id": ...} of the version the last successful rollout
    activated under the node's desired image name, or None (the console never
    rolled that name out). Asked once per refresh, not by classify itself."""
    from images.models.rollout import Rollout, RolloutStatus

    if not node.desired_image:
        return None
    rollout = (Rollout.objects.filter(cluster_id=node.cluster_id, target_image=node.desired_image,
                                      distribute_only=False, status=RolloutStatus.SUCCEEDED, target__isnull=False)
               .select_related("target").order_by("-created_at").first())
    return None if rollout is None else expected_of(rollout.target)


def expected_of(version) -> dict:
    """What a node holding `version` under its name shows: a pulled image is
    known by its registry digest; one streamed with docker load (no
    registry) by its image id, which docker load keeps."""
    return {"digest": version.manifest_digest or None, "id": version.image_id if version.local else None}


def holds_other_image(node, expected: dict) -> bool:
    """The desired name on the node is another image than the one rolled out
    under it: a name re-pointed by docker load, tag or pull."""
    entry = next((image for image in node.images if image.get("ref") == node.desired_image), None)
    if entry is None:
        return False
    if expected.get("digest") and entry.get("digest"):
        return entry["digest"] != expected["digest"]
    if expected.get("id"):
        return entry.get("id") != expected["id"]
    return False
