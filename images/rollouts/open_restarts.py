"""Fence restart rows left open (outcome unknown) with no step left to
complete them: the connection dropped after the restart command was sent
and the step ended errored, or its rollout moved on. Each is completed with
what the node's supervisord shows now (audit.resolve). A row whose step is
still queued or running is left to that step: its retry looks at the node
itself (steps.restart).

For the recovery to call each round (the reconciler, job_runs/, every
10 s); safe to call any time. A row is looked at on the first pass that
finds it with no step left; a node that cannot be looked at (down, its
supervisord failing) keeps its rows open, is named in the report and is
not tried again for LOOK_AGAIN_AFTER seconds, so a dead node does not cost
every reconciler pass a connect timeout, and the other nodes' rows are
still looked at."""
from images.models.rollout import IN_FLIGHT, RolloutStep
from images.rollouts import audit
from nodes import remote, ssh
from nodes.models import FenceRestart
from nodes.supervisor import Supervisor
from stackato_dash import queueing

LOOK_AGAIN_AFTER = 120  # seconds before a row whose node could not be looked at is tried again
_LOOKED_KEY = "stackato_dash:open_restarts:looked:{}"  # one per row left open by a failed look; expires


def _looked_key(row) -> str:
    # With its start time: a test database's reused primary key is another row.
    return _LOOKED_KEY.format(f"{row.pk}:{row.started_at.timestamp()}")


def _step_will_look(row) -> bool:
    return RolloutStep.objects.filter(rollout_id=row.correlation_id, node_id=row.node_id, image=row.image_after,
                                      status__in=IN_FLIGHT).exists()


def _pid_before(row) -> int | None:
    """The fence pid its step saved before sending the restart (steps.restart)."""
    return (RolloutStep.objects.filter(rollout_id=row.correlation_id, node_id=row.node_id, image=row.image_after,
                                       started_at__lte=row.started_at)
            .order_by("-started_at").values_list("fence_pid_before", flat=True).first())


def look_at_open_restarts(connection=None) -> list[str]:
    """One line per row completed or still unknown. connection: Redis
    (default: the queue's), where failed looks are remembered."""
    redis = connection or queueing.get_queue().connection
    rows = [row for row in FenceRestart.objects.filter(finished_at__isnull=True).select_related("node")
            .order_by("started_at", "id")
            if not redis.exists(_looked_key(row)) and not _step_will_look(row)]
    report, failed = [], {}  # node id -> why it could not be looked at, this pass
    with remote.session_pool() as pool:
        for row in rows:
            try:
                if row.node_id in failed:
                    raise failed[row.node_id]
                fence = Supervisor(pool.get(remote.endpoint(row.node))).process_info("fence")
            except (ssh.SSHError, ssh.RemoteCommandError) as error:
                failed[row.node_id] = error
                redis.set(_looked_key(row), "1", ex=LOOK_AGAIN_AFTER)
                report.append(f"{row}: still unknown, {row.node_address} could not be looked at ({error}); "
                              f"tried again in {LOOK_AGAIN_AFTER} s")
                continue
            outcome = audit.resolve(row, fence, _pid_before(row), how="looked at by the recovery")
            report.append(f"fence restart on {row.node_address} at {row.started_at:%H:%M:%S}: {outcome}")
    return report
