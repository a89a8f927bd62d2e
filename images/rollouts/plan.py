"""Which DEA nodes a rollout touches, in which order, and which it leaves
out. Pure reading of rows: the confirmation page shows this, nothing runs."""
import math
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

_MAX_IN_FLIGHT = re.compile(r"(0|[1-9][0-9]{0,3})(%?)")


@dataclass(frozen=True)
class MaxInFlight:
    """How many nodes are worked on at once: a number, or a percentage of
    the nodes taking part. Parsed once where the text comes in (the form,
    start(), the rollout row); the text is what the row stores and shows."""
    number: int
    percent: bool = False

    @classmethod
    def parse(cls, value) -> "MaxInFlight":
        if isinstance(value, cls):
            return value
        match = _MAX_IN_FLIGHT.fullmatch(value or "") if isinstance(value, str) else None
        if not match:
            raise ValidationError(f"{value!r} is not a number of nodes (e.g. 2) or a percentage (e.g. 25%).")
        number, percent = int(match[1]), bool(match[2])
        # Well-formed but out of range: say which bound, not "not a number".
        if number == 0:
            raise ValidationError(f"{value!r} would work on no node at a time: give at least 1 node (e.g. 2) or "
                                  "a percentage from 1% to 100% (e.g. 25%).")
        if percent and number > 100:
            raise ValidationError(f"{value!r} is a percentage above 100%: at most 100% of the nodes taking part "
                                  "can be worked on at once (e.g. 25%, or 100% for all of them at once).")
        return cls(number, percent)

    def of(self, total: int) -> int:
        """'3' -> 3; '25%' of 10 nodes -> 3 (rounded up, at least 1)."""
        return max(1, math.ceil(total * self.number / 100)) if self.percent else self.number

    def __str__(self) -> str:
        return f"{self.number}{'%' if self.percent else ''}"


def exclusion_reason(node) -> str:
    if not node.enabled:
        return "disabled"
    if node.in_maintenance:
        return "in maintenance"
    if not node.is_trusted:
        return "host key not trusted"
    if node.host_key_mismatch_fingerprint:
        return "host key changed"
    if node.reachable is False:
        return "unreachable at the last refresh"
    return ""


def left_out_note(rollout) -> str:
    """What a rollout's summary says of the DEAs its plan left out: the
    cluster config is cluster-wide, so it names the new image for them too."""
    if not rollout.left_out:
        return ""
    if rollout.distribute_only:
        return f"; left out, not pulled: {rollout.left_out}"
    if rollout.cluster.fence_reloads_on_change:
        return (f"; left out: {rollout.left_out}: their fence reloads on the config as every DEA's does (3.0.1+), "
                "though they were not given the image, and was not verified")
    return (f"; left out: {rollout.left_out}: still on the image before; the config names the new one for them "
            "too, so their fence starts on it at its next restart, though they were not given the image")


@dataclass
class Plan:
    nodes: list = field(default_factory=list)
    excluded: list = field(default_factory=list)  # (node, reason)
    batches: list = field(default_factory=list)  # [[node, ...], ...]; batch 0 holds the canaries
    in_flight: int = 1
    has_canaries: bool = False  # batch 0 is the canaries (none with canaries=0)
    needs_pull: list = field(default_factory=list)
    pull_bytes: int | None = None

    def left_out(self) -> str:
        """'10.0.0.13 (unreachable at the last refresh); …', as the rollout records it."""
        return "; ".join(f"{node.address} ({why})" for node, why in self.excluded)

    @property
    def window(self) -> list:
        """The nodes after the first batch, in order: they run as one window of
        `in_flight` (engine.py), each starting when a step before it ends."""
        return [node for batch in self.batches[1:] for node in batch]

    @property
    def window_width(self) -> int:
        """How many of the window's nodes run at once (never more than it has)."""
        return min(self.in_flight, len(self.window))

    def batch_of(self, node) -> int:
        return next(i for i, batch in enumerate(self.batches) if node in batch)


def make_plan(cluster, target_image: str, *, canaries: int, max_in_flight: MaxInFlight, image_size: int | None) -> Plan:
    plan = Plan()
    for node in cluster.nodes.order_by("address"):
        if not node.is_dea:
            continue
        reason = exclusion_reason(node)
        if reason:
            plan.excluded.append((node, reason))
        else:
            plan.nodes.append(node)
    plan.in_flight = max_in_flight.of(len(plan.nodes))
    canary_count = min(canaries, len(plan.nodes))
    if canary_count:
        plan.batches.append(plan.nodes[:canary_count])
        plan.has_canaries = True
    rest = plan.nodes[canary_count:]
    plan.batches += [rest[i:i + plan.in_flight] for i in range(0, len(rest), plan.in_flight)]
    # From the last refresh: a node that already holds the image skips the pull.
    plan.needs_pull = [node for node in plan.nodes if target_image not in node.image_refs]
    plan.pull_bytes = image_size * len(plan.needs_pull) if image_size else None
    return plan
