"""The fleet at a past moment, reconstructed from the fence restart audit:
which image each node's fence ran at T and since when, and each node's
timeline around T.

What the audit can tell, and no more:
- a restart that succeeded: fence ran its image_after from its finished_at
  (when the console saw it running) until the node's next restart;
- a restart in progress at T (its outcome was written later): "restarting";
- a restart whose outcome is failed, errored, timed out, unverified or still
  unknown (its row is open to this day): the image is UNKNOWN from its start
  until a later restart succeeds (fence may be down, or up on either image);
- "not restarted" (an open row found to have changed nothing): no change;
- before the node's first recorded restart: not recorded (the first row's
  image_before is shown as what the console believed it ran).
Two restarts of one node overlapping in time are taken in order of start.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, Subquery

from nodes.models import FenceRestart, Node
from nodes.models.fence_restart import Outcome

IMAGE, UNKNOWN, RESTARTING, NOT_RECORDED = "image", "unknown", "restarting", "not recorded"
TIMELINE_ROWS = 200  # audit rows of the cluster on each side of T that the timeline spans


@dataclass
class NodeState:
    kind: str
    image: str = ""
    since: datetime | None = None
    row: FenceRestart | None = None  # the audit row that made it so

    @property
    def label(self) -> str:
        if self.kind == IMAGE:
            return self.image
        if self.kind == RESTARTING:
            return f"restarting: {self.row.image_before or '?'} \u2192 {self.row.image_after}"
        if self.kind == UNKNOWN:
            return f"unknown since a restart: {self.row.get_outcome_display()}"
        return f"not recorded{f' (believed {self.image})' if self.image else ''}"


def after(row: FenceRestart, at: datetime | None = None) -> NodeState:
    """The state a row leaves once its outcome is final (or, before that, at `at`)."""
    if row.finished_at is not None and at is not None and row.finished_at > at:
        return NodeState(RESTARTING, since=row.started_at, row=row)
    if row.outcome == Outcome.SUCCEEDED:
        return NodeState(IMAGE, row.image_after, row.finished_at, row)
    return NodeState(UNKNOWN, since=row.started_at, row=row)


def nodes_of(cluster):
    """The cluster's fence nodes: DEAs now, and any node with a recorded restart."""
    restarted = FenceRestart.objects.filter(node=OuterRef("pk"))
    return [node for node in Node.objects.filter(cluster=cluster).order_by("address")
            .annotate(has_rows=Exists(restarted))
            if node.is_dea or node.has_rows]


def states_at(cluster, at: datetime, nodes=None) -> list[tuple[Node, NodeState]]:
    """Each node's state at `at`: two queries whatever the history's size (the
    node index finds each node's last row before `at` and first after)."""
    nodes = nodes if nodes is not None else nodes_of(cluster)
    rows = FenceRestart.objects.exclude(outcome=Outcome.NOT_RESTARTED).filter(node=OuterRef("pk"))
    annotated = Node.objects.filter(pk__in=[n.pk for n in nodes]).annotate(
        last_id=Subquery(rows.filter(started_at__lte=at).order_by("-started_at", "-id").values("id")[:1]),
        next_id=Subquery(rows.filter(started_at__gt=at).order_by("started_at", "id").values("id")[:1]))
    ids = {node.pk: (node.last_id, node.next_id) for node in annotated}
    by_id = FenceRestart.objects.in_bulk([i for pair in ids.values() for i in pair if i])
    answer = []
    for node in nodes:
        last, upcoming = (by_id.get(i) for i in ids.get(node.pk, (None, None)))
        if last is not None:
            answer.append((node, after(last, at)))
        else:
            answer.append((node, NodeState(NOT_RECORDED, upcoming.image_before if upcoming else "", None, upcoming)))
    return answer


@dataclass
class Segment:
    start: datetime
    end: datetime
    state: NodeState


def window(cluster, at: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The timeline's span: from TIMELINE_ROWS restarts of the cluster before T
    to the last event of as many after it (two index scans), with a margin, so
    the restarts around T fill the chart; T is always inside."""
    rows = FenceRestart.objects.filter(cluster=cluster)
    before = list(rows.filter(started_at__lte=at).order_by("-started_at").values_list("started_at", flat=True)
                  [:TIMELINE_ROWS])
    later = list(rows.filter(started_at__gt=at).order_by("started_at").values_list("started_at", "finished_at")
                 [:TIMELINE_ROWS])
    start = min([at, *before[-1:]])
    end = max([at, *(moment for pair in later for moment in pair if moment is not None)])
    margin = max((end - start) / 20, timedelta(minutes=1))
    return start - margin, min(end + margin, max(now, at))


def timelines(cluster, at: datetime, start: datetime, end: datetime, nodes) -> dict[int, list[Segment]]:
    """Per node, the states between start and end, each a segment."""
    initial = dict((node.pk, state) for node, state in states_at(cluster, start, nodes))
    rows = (FenceRestart.objects.filter(cluster=cluster, node__in=[n.pk for n in nodes])
            .filter(Q(started_at__gt=start, started_at__lte=end) | Q(finished_at__gt=start, started_at__lte=start))
            .exclude(outcome=Outcome.NOT_RESTARTED).order_by("started_at", "id"))
    events: dict[int, list[tuple[datetime, NodeState]]] = {node.pk: [] for node in nodes}
    for row in rows:
        if row.started_at > start:  # an open row is unknown from its start; a completed one restarting until done
            events[row.node_id].append((row.started_at, after(row, row.started_at)))
        if row.finished_at is not None and start < row.finished_at <= end:
            events[row.node_id].append((row.finished_at, after(row)))
    answer = {}
    for node in nodes:
        state, since, segments = initial[node.pk], start, []
        for moment, new_state in sorted(events[node.pk], key=lambda event: event[0]):
            if moment > since:
                segments.append(Segment(since, moment, state))
            state, since = new_state, max(since, moment)
        segments.append(Segment(since, end, state))
        answer[node.pk] = segments
    return answer
