"""What the rollout page shows while a rollout runs: per-phase progress, one
row per node with its log, and a timeline of the node steps as an SVG
picture drawn here, so the page needs no chart library and no network."""
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join

from images.admin.rollout_node_image import known_image
from images.models.rollout import BAD, IN_FLIGHT, Phase, StepStatus
from nodes.models import FenceRestart

# The step that switches a node: the rollout is at 100% when every node's is done.
SWITCH_PHASES = (Phase.RESTART, Phase.OBSERVE)
COLORS = {StepStatus.PENDING: "#ccc", StepStatus.QUEUED: "#9ab", StepStatus.RUNNING: "#f0ad4e",
          StepStatus.SUCCEEDED: "#3a8c3a", StepStatus.FAILED: "#c9302c", StepStatus.ERRORED: "#8b1a1a",
          StepStatus.SKIPPED: "#bbb"}
ROW, LABEL, WIDTH = 26, 130, 760


@dataclass
class NodeRow:
    address: str
    steps: list = field(default_factory=list)
    restarts: list = field(default_factory=list)  # its audit rows for this rollout; open ones show "outcome unknown"
    known: object = None  # rollout_node_image.KnownImage: what it runs, for the Image column

    @property
    def last(self):
        return self.steps[-1]

    @property
    def seconds(self) -> float | None:
        spans = [_span(step) for step in self.steps if step.started_at]
        return round(sum(end - start for start, end in spans), 1) if spans else None


def _span(step, now: datetime | None = None) -> tuple[float, float]:
    end = step.finished_at or now or timezone.now()
    return step.started_at.timestamp(), end.timestamp()


def progress(rollout) -> dict:
    steps = list(rollout.steps.select_related("node").order_by("id"))
    phases = []
    for phase in Phase:
        of_phase = [step for step in steps if step.phase == phase]
        if of_phase:
            phases.append(phase_counts(phase, of_phase))
    nodes = {}
    for step in steps:
        nodes.setdefault(step.node_id, NodeRow(step.node.address)).steps.append(step)
    for row in FenceRestart.objects.filter(correlation_id=rollout.id, node_id__in=nodes).order_by("started_at", "id"):
        nodes[row.node_id].restarts.append(row)
    config_changed = any(step.phase == Phase.CONFIG and step.status == StepStatus.SUCCEEDED for step in steps)
    for row in nodes.values():
        row.known = known_image(rollout, row.steps, row.restarts, config_changed)
    total = sum(step.phase == Phase.PULL for step in steps)
    switched = sum(step.phase in SWITCH_PHASES and step.status == StepStatus.SUCCEEDED for step in steps)
    # A node switched and then rolled back is counted in both: "3 / 4 switched"
    # alone would say it still runs the target.
    switched_back = sum(step.phase == Phase.REVERT and step.status == StepStatus.SUCCEEDED for step in steps)
    return {"phases": phases, "nodes": list(nodes.values()), "switched": switched, "total": total,
            "switched_back": switched_back,
            "percent": round(100 * switched / total) if total else 0, "timeline": timeline(list(nodes.values()))}


def phase_counts(phase, steps) -> dict:
    """The phase row: done means succeeded. The engine counts a skipped or
    failed step as over (DONE), but "10 / 10 done" after a cancel that
    skipped 4 would say those nodes were switched."""
    succeeded = sum(step.status == StepStatus.SUCCEEDED for step in steps)
    others = [(sum(step.status in statuses for step in steps), word) for statuses, word in
              ((BAD, "failed"), ((StepStatus.SKIPPED,), "skipped"), (IN_FLIGHT, "in flight"))]
    return {"label": phase.label, "done": succeeded, "total": len(steps),
            "others": ", ".join(f"{count} {word}" for count, word in others if count),
            "percent": round(100 * succeeded / len(steps))}


def timeline(rows: list[NodeRow]):
    """One row per node, a bar per step from its start to its end (or now)."""
    now = timezone.now()
    spans = [_span(step, now) for row in rows for step in row.steps if step.started_at]
    if not spans:
        return ""
    origin = min(start for start, _ in spans)
    length = max(max(end for _, end in spans) - origin, 1.0)
    scale = (WIDTH - LABEL - 10) / length
    height = ROW * len(rows) + 24
    parts = []
    for index, row in enumerate(rows):
        y = index * ROW + 4
        parts.append(format_html('<text x="0" y="{}" font-size="12" font-family="monospace">{}</text>',
                                 y + 14, row.address))
        for step in row.steps:
            if not step.started_at:
                continue
            start, end = _span(step, now)
            # Restarts are what the operator watches: full height; the others thinner.
            tall = step.phase in (Phase.RESTART, Phase.OBSERVE, Phase.REVERT)
            # format_html escapes its arguments into strings: numbers are formatted first.
            parts.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="step-{}">'
                '<title>{} {}: {} s</title></rect>',
                f"{LABEL + (start - origin) * scale:.1f}", y + (0 if tall else 5),
                f"{max((end - start) * scale, 2):.1f}", 18 if tall else 8, COLORS.get(step.status, "#999"),
                step.status, step.get_phase_display(), step.status, f"{end - start:.1f}"))
    parts.append(format_html('<text x="{}" y="{}" font-size="11">0 s</text><text x="{}" y="{}" font-size="11" '
                             'text-anchor="end">{} s</text>', LABEL, height - 4, WIDTH - 10, height - 4,
                             f"{length:.0f}"))
    body = format_html_join("", "{}", ((part,) for part in parts))
    return format_html('<svg id="rollout-timeline" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
                       'role="img" aria-label="timeline of node steps">{}</svg>', WIDTH, height, body)
