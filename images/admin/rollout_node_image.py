"""The Image column of the rollout page's node table: what the node is known
to run, not the image its last step would have moved it to. A node whose
restart was skipped (a cancel, a failure elsewhere) never left the image
before, and the page must not show it on the target."""
from dataclasses import dataclass

from images.models.rollout import BAD, Phase, StepStatus
from nodes.models.fence_restart import Outcome

# The steps that change what fence runs on a node, in the order they come.
SWITCHING = (Phase.RESTART, Phase.OBSERVE, Phase.REVERT)


@dataclass(frozen=True)
class KnownImage:
    image: str  # the reference, or "" when it cannot be named
    text: str  # what is shown instead of a reference: "not changed", "unknown"
    note: str  # the step the picture rests on, when it did not succeed: "restart + verify skipped"


def known_image(rollout, steps, restarts, config_changed: bool) -> KnownImage:
    """steps: the node's steps in order; restarts: its audit rows for this
    rollout; config_changed: the config was set to the target (3.0.1+ nodes
    reload on it by themselves, so a skipped verify leaves them unknown)."""
    image, certain, last = rollout.previous_image, True, None
    for step in steps:
        if step.phase not in SWITCHING:
            continue
        last = step
        if step.status == StepStatus.SUCCEEDED:
            image, certain = step.image, True
        elif step.phase == Phase.OBSERVE and config_changed:
            certain = False  # fence reloads on the config change; not verified here
        elif step.status in BAD and _may_have_restarted(step, restarts):
            certain = False  # the restart command may have run: the audit row says how far it got
    note = "" if last is None or last.status == StepStatus.SUCCEEDED else \
        f"{last.get_phase_display()} {last.get_status_display()}"
    if not certain:
        return KnownImage("", "unknown", note)
    return KnownImage(image, "" if image else "not changed", note)


def _may_have_restarted(step, restarts) -> bool:
    return any(row.image_after == step.image and row.outcome != Outcome.NOT_RESTARTED for row in restarts)
