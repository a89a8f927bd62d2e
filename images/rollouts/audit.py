"""One FenceRestart row per fence restart, written by the job that caused or
observed it (never by a request-bound signal)."""
from django.utils import timezone

from nodes.models import FenceRestart
from nodes.models.fence_restart import Outcome


def record(step, *, started_at, image_before: str, outcome: str, exit_code=None, output: str = "") -> FenceRestart:
    rollout = step.rollout
    return FenceRestart.objects.create(
        node=step.node, cluster=rollout.cluster, cluster_name=rollout.cluster.name, node_address=step.node.address,
        started_at=started_at, finished_at=timezone.now(),
        requested_by=rollout.requested_by, requested_by_username=rollout.requested_by_username,
        image_before=image_before or "", image_after=step.image, outcome=outcome, exit_code=exit_code,
        output_excerpt=output[-2000:], correlation_id=rollout.id, reason=rollout.reason)


def already_recorded(step) -> bool:
    """A restart of this step that a lost worker finished but the retry must not count twice."""
    return FenceRestart.objects.filter(correlation_id=step.rollout_id, node=step.node, image_after=step.image,
                                       started_at__gte=step.started_at).exists()


__all__ = ["record", "already_recorded", "Outcome"]
