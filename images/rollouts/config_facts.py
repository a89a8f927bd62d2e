"""A config step (CONFIG, or a rollback's REVERT_CONFIG) names an image for
every node of the cluster: `fence docker/image` is cluster-wide. The nodes
the rollout works on get their facts from their verified restart
(verified_facts.py); the others (DEAs the plan left out: disabled, in
maintenance, unreachable, host key not trusted or changed; nodes without
fence) would keep the desired image and drift of their last refresh, "in
sync" on an image their fence no longer starts on (3.0) or no longer
reloads to unverified (3.0.1+).

This re-judges those rows when the step succeeds: desired_image becomes the
image the config now names and drift is recomputed with the refresh's own
function (nodes/drift.classify) on the facts the row already holds. Nothing
is read from those nodes (many are unreachable or left out on purpose): the
row says "desired image as the config set by rollout N at T"
(desired_image_set_*), never that it was refreshed; the next refresh or
verified restart, which reads the config on the node, clears that."""
import logging

from django.utils import timezone

from images.models.rollout import Phase, RolloutStep
from nodes import drift
from nodes.models import Node

logger = logging.getLogger(__name__)

FIELDS = ["desired_image", "desired_image_set_at", "desired_image_set_by_rollout", "drift"]
# A node with one of these steps in the rollout gets its facts from that step.
WORKING_PHASES = (Phase.RESTART, Phase.OBSERVE, Phase.REVERT)


def record(step) -> None:
    """After the config step `step` succeeded. Whatever fails here is logged,
    not raised: the config is set, and raised it would end the step failed
    (and roll the rollout back) over the console's picture of some nodes;
    those rows then wait for a refresh."""
    try:
        rejudge(step)
    except Exception:  # noqa: BLE001 - see above: never the step's outcome
        logger.exception("could not write rollout %s's config onto the nodes it does not work on", step.rollout_id)


def rejudge(step, now=None) -> list:
    """Re-judge the rows of the nodes `step`'s rollout does not work on;
    returns the nodes written."""
    now = now or timezone.now()
    rollout = step.rollout
    cluster = rollout.cluster
    worked_on = RolloutStep.objects.filter(rollout_id=rollout.pk, phase__in=WORKING_PHASES).values("node_id")
    written = []
    for node in cluster.nodes.exclude(pk__in=worked_on):
        node.cluster = cluster  # its history holds the change just recorded
        apply(node, step, now)
        # Only over the facts it was judged on: a refresh or verified restart
        # that wrote the row meanwhile read the node itself, and stands.
        unchanged = Node.objects.filter(pk=node.pk, facts_refreshed_at=node.facts_refreshed_at,
                                        facts_verified_at=node.facts_verified_at)
        if unchanged.update(**{name: getattr(node, name) for name in FIELDS}):
            written.append(node)
    return written


def apply(node, step, now) -> None:
    """The config's image and drift on `node` (not saved)."""
    node.desired_image = step.image
    node.desired_image_set_at, node.desired_image_set_by_rollout = now, step.rollout_id
    node.drift = drift.classify(node, _expected(node, step))


def _expected(node, step) -> dict | None:
    """What drift expects under the name, as verified_facts does: the
    rollout's own version for its target, else what a refresh expects."""
    rollout = step.rollout
    if rollout.target is not None and step.image == rollout.target_image:
        return drift.expected_of(rollout.target)
    return drift.expected_image(node)
