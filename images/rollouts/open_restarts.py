"""Fence restart rows left open (outcome unknown) with no step left to
complete them: the connection dropped after the restart command was sent
and the step ended errored, or its rollout moved on. Each is completed with
what the node's supervisord shows now (audit.resolve). A row whose step is
still queued or running is left to that step: its retry looks at the node
itself (steps.restart).

For the recovery to call each round (the reconciler, job_runs/); safe to
call any time: a node that cannot be reached keeps its rows open and is
named in the report."""
from images.models.rollout import IN_FLIGHT, RolloutStep
from images.rollouts import audit
from nodes import remote, ssh
from nodes.models import FenceRestart
from nodes.supervisor import Supervisor


def _step_will_look(row) -> bool:
    return RolloutStep.objects.filter(rollout_id=row.correlation_id, node_id=row.node_id, image=row.image_after,
                                      status__in=IN_FLIGHT).exists()


def _pid_before(row) -> int | None:
    """The fence pid its step saved before sending the restart (steps.restart)."""
    return (RolloutStep.objects.filter(rollout_id=row.correlation_id, node_id=row.node_id, image=row.image_after,
                                       started_at__lte=row.started_at)
            .order_by("-started_at").values_list("fence_pid_before", flat=True).first())


def look_at_open_restarts() -> list[str]:
    """One line per row completed or still unknown."""
    rows = [row for row in FenceRestart.objects.filter(finished_at__isnull=True).select_related("node")
            .order_by("started_at", "id") if not _step_will_look(row)]
    report = []
    with remote.session_pool() as pool:
        for row in rows:
            try:
                fence = Supervisor(pool.get(remote.endpoint(row.node))).process_info("fence")
            except ssh.SSHError as error:
                report.append(f"{row}: still unknown, the node cannot be reached ({error})")
                continue
            outcome = audit.resolve(row, fence, _pid_before(row), how="looked at by the recovery")
            report.append(f"fence restart on {row.node_address} at {row.started_at:%H:%M:%S}: {outcome}")
    return report
