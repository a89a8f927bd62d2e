"""One FenceRestart row per fence restart, written by the job that caused or
observed it (never by a request-bound signal).

A restart the console sends is written ahead: write_ahead() before the command
(who, why, node, image before and target; outcome unknown), complete() after.
A row left open (worker killed, connection dropped after sending) is
completed by whoever next looks at the node (resolve()): a fence started
since the row was opened is the restart's effect, none means it did not
happen. A 3.0.1+ reload the console only observes is written when seen
(record())."""
from django.utils import timezone

from images.rollouts import fence_check
from nodes.models import FenceRestart
from nodes.models.fence_restart import Outcome


def _fields(step, image_before: str) -> dict:
    rollout = step.rollout
    return dict(node=step.node, cluster=rollout.cluster, cluster_name=rollout.cluster.name,
                node_address=step.node.address, requested_by=rollout.requested_by,
                requested_by_username=rollout.requested_by_username, image_before=image_before or "",
                image_after=step.image, correlation_id=rollout.id, reason=rollout.reason)


def record(step, *, started_at, image_before: str, outcome: str, exit_code=None, output: str = "") -> FenceRestart:
    """A restart seen after the fact (a 3.0.1+ reload): written complete."""
    return FenceRestart.objects.create(**_fields(step, image_before), started_at=started_at,
                                       finished_at=timezone.now(), outcome=outcome, exit_code=exit_code,
                                       output_excerpt=output[-2000:])


def write_ahead(step, *, image_before: str) -> FenceRestart:
    """The row of a restart about to be sent; its outcome is unknown until complete()."""
    return FenceRestart.objects.create(**_fields(step, image_before), started_at=timezone.now(), finished_at=None,
                                       outcome=Outcome.UNKNOWN)


def complete(row: FenceRestart, *, outcome: str, exit_code=None, output: str = "") -> None:
    """Once only: a completed row refuses another completion (AppendOnlyError)."""
    row.complete(outcome=outcome, finished_at=timezone.now(), exit_code=exit_code, output_excerpt=output[-2000:])


def open_rows(node):
    return FenceRestart.objects.filter(node=node, finished_at__isnull=True).order_by("started_at", "id")


def resolve(row: FenceRestart, fence, pid_before: int | None, how: str) -> str:
    """Complete an open row with what the node shows now (`fence` is its
    supervisord process info); returns the outcome written."""
    if fence_check.started_since(fence, row.started_at, pid_before):
        outcome, seen = Outcome.SUCCEEDED, f"fence restarted since {row.started_at:%H:%M:%S}"
    elif fence.started is not None and fence.started >= row.started_at - fence_check.START_SLACK:
        outcome, seen = Outcome.FAILED, f"fence started since {row.started_at:%H:%M:%S} and is not running"
    else:
        outcome, seen = Outcome.NOT_RESTARTED, f"no fence started since {row.started_at:%H:%M:%S}"
    complete(row, outcome=outcome, output=f"{how}: {seen}; fence is {fence_check.describe(fence)}")
    return outcome


def already_recorded(step) -> bool:
    """A restart of this step that a lost worker finished but the retry must not count twice."""
    return FenceRestart.objects.filter(correlation_id=step.rollout_id, node=step.node, image_after=step.image,
                                       started_at__gte=step.started_at).exclude(outcome=Outcome.NOT_RESTARTED).exists()


__all__ = ["record", "write_ahead", "complete", "open_rows", "resolve", "already_recorded", "Outcome"]
