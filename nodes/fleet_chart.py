"""Geometry of the per-node timeline chart (nodes/fleet_at.py's segments),
drawn as SVG by a template on the server: numbers here, markup there."""
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from nodes import fleet_at

WIDTH, LABEL, TOP, LANE, BAR = 960, 130, 28, 24, 16
PLOT = WIDTH - LABEL - 10
PALETTE = ["#4e79a7", "#59a14f", "#9c755f", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#ff9da7"]
FILLS = {fleet_at.UNKNOWN: "url(#fleet-unknown)", fleet_at.RESTARTING: "#e15759", fleet_at.NOT_RECORDED: "#ffffff"}
TICKS = 5


@dataclass
class Bar:
    x: float
    width: float
    fill: str
    kind: str
    title: str
    image: str = ""


@dataclass
class Lane:
    y: float
    text_y: float
    label: str
    bars: list = field(default_factory=list)


@dataclass
class Chart:
    height: float
    lanes: list
    ticks: list  # (x, label, text-anchor)
    marker_x: float
    marker_label: str
    legend: list  # (fill, label)
    width: int = WIDTH


def _local(moment: datetime, long: bool) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M" if long else "%H:%M:%S")


def chart(nodes, segments: dict, start: datetime, end: datetime, at: datetime) -> Chart:
    span = (end - start).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        return round(LABEL + max(0.0, min(1.0, (moment - start).total_seconds() / span)) * PLOT, 1)

    colours: dict[str, str] = {}
    lanes = []
    for index, node in enumerate(nodes):
        y = TOP + index * LANE
        lane = Lane(y, y + BAR - 4, node.address)
        for segment in segments[node.pk]:
            state = segment.state
            if state.kind == fleet_at.IMAGE:
                fill = colours.setdefault(state.image, PALETTE[len(colours) % len(PALETTE)])
            else:
                fill = FILLS[state.kind]
            row = f" (audit row {state.row.pk})" if state.row else ""
            title = f"{node.address}: {state.label} from {_local(segment.start, True)} to {_local(segment.end, True)}{row}"
            lane.bars.append(Bar(x(segment.start), max(round(x(segment.end) - x(segment.start), 1), 0.5), fill,
                                 state.kind.replace(" ", "-"), title, state.image))
        lanes.append(lane)
    long = span > 86400
    anchors = ["start"] + ["middle"] * (TICKS - 2) + ["end"]  # the outer labels stay inside the chart
    ticks = [(round(LABEL + PLOT * i / (TICKS - 1), 1), _local(start + (end - start) * i / (TICKS - 1), long),
              anchors[i]) for i in range(TICKS)]
    legend = [(fill, image) for image, fill in colours.items()] + [
        (FILLS[kind], text) for kind, text in ((fleet_at.RESTARTING, "restart in progress"),
                                               (fleet_at.UNKNOWN, "unknown (restart failed / unverified / unknown)"),
                                               (fleet_at.NOT_RECORDED, "not recorded"))]
    return Chart(TOP + len(nodes) * LANE + 8, lanes, ticks, x(at), f"T {_local(at, long)}", legend)
