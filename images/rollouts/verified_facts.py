"""A verified restart (steps._verify) writes what it verified onto its Node,
so the node list and node page show the fence and image a rollout left
behind without a facts refresh (no extra SSH: these are the facts the step
just read).

What a step verified is what a refresh reads for the same fields: fence's
state, pid and start time from the node's supervisord; the config's image
(read back with kato); that the node's engine holds that image (by the
pinned digest, or by image id when streamed). Only those fields change;
the refresh's other facts (docker version, the other images, registry
config) and its time stay as they were. The row then says "verified by
rollout N at T" (facts_verified_*), never that it was refreshed, and drift
is recomputed with the refresh's own function (nodes/drift.classify)."""
import logging

from django.utils import timezone

from nodes import drift
from nodes.models import Node

logger = logging.getLogger(__name__)

FIELDS = ["reachable", "last_seen", "last_error", "desired_image", "fence_state", "fence_pid", "fence_started_at",
          "images", "facts_verified_at", "facts_verified_by_rollout", "desired_image_set_at",
          "desired_image_set_by_rollout", "drift"]


def record(step, fence) -> None:
    """Write what the step verified (fence: supervisord's ProcessInfo of the
    new fence). Whatever fails here is logged, not raised: the restart is
    verified and its audit row written already, and raised it would end a
    verified step errored (and the rollout rolled back) over the console's
    picture of a node; the row then waits for a refresh."""
    try:
        node = Node.objects.select_related("cluster").get(pk=step.node_id)
        apply(node, step, fence)
        node.save(update_fields=FIELDS)
    except Exception:  # noqa: BLE001 - see above: never the step's outcome
        logger.exception("could not write rollout %s's verified facts onto node %s", step.rollout_id, step.node_id)


def apply(node, step, fence, now=None) -> None:
    """Set the verified facts and drift on `node` (not saved)."""
    now = now or timezone.now()
    node.reachable, node.last_seen, node.last_error = True, now, ""  # it answered every look just now
    node.desired_image = step.image  # the config read back names it (config_read.py)
    node.desired_image_set_at = node.desired_image_set_by_rollout = None  # read, not only set (config_facts.py)
    node.fence_state, node.fence_pid, node.fence_started_at = fence.state, fence.pid, fence.started
    node.facts_verified_at, node.facts_verified_by_rollout = now, step.rollout_id
    entry, expected = _engine_entry(node, step)
    node.images = [*(image for image in node.images if image.get("ref") != step.image), entry]
    node.drift = drift.classify(node, expected)


def _engine_entry(node, step) -> tuple[dict, dict | None]:
    """The images entry for step.image as verified (node_engine.verified_holds),
    and what drift should expect under that name."""
    rollout = step.rollout
    known = next((image for image in node.images if image.get("ref") == step.image), None)
    version = rollout.target if step.image == rollout.target_image else None
    if version is not None and (version.local or "@" in rollout.target_pull):
        # Verified by the pinned digest (pulled) or by image id (streamed): the
        # version of this rollout, not yet the "last succeeded" drift looks up.
        expected = drift.expected_of(version)
        same = known is not None and all(known.get(key) == value for key, value in expected.items() if value)
        if same:
            return known, expected
        return {"ref": step.image, "id": expected["id"], "digest": expected["digest"]}, expected
    if known is not None:
        # Held under its name (a revert to the previous image, a pull by tag):
        # its content as the last refresh read it, checked as a refresh does.
        return known, drift.expected_image(node)
    # Held, but its content was never read: nothing is claimed about it.
    return {"ref": step.image, "id": None, "digest": None}, None
