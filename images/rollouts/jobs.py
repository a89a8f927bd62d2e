"""RQ entry points for rollouts, and how the engine's decisions reach the
queue: the engine (engine.py) decides and returns the steps to run; advance()
here queues them through stackato_dash.queueing once the rows are committed.
Jobs take ids only and re-read the rows."""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from images.models.rollout import IN_FLIGHT, RolloutStep, StepStatus
from images.rollouts import engine, fence_check, recover, steps
from job_runs import lifecycle
from stackato_dash import queueing

logger = logging.getLogger(__name__)


def advance(rollout_id) -> engine.Decision:
    """The rollout decides; the steps it decided to run are queued after commit."""
    decision = engine.advance(rollout_id)
    for step in RolloutStep.objects.filter(pk__in=decision.queue).select_related("node", "rollout").order_by("pk"):
        try:
            enqueue_step(step)
        except Exception as error:  # noqa: BLE001 - Redis refused it: the reconciler queues it again
            # The step is committed as queued and its JobRun row stays queued:
            # the reconciler finds no job for it and sends it back through
            # the rollout. The other steps of the decision are still queued.
            logger.warning("rollout %s: %s on %s could not be queued (%s: %s); the reconciler queues it again",
                           step.rollout_id, step.phase, step.node.address, error.__class__.__name__, error)
    return decision


def _step_errored(step_id: int, reason: str) -> None:
    """Something escaped the step (a job timeout, a locked database, a bug):
    the step ends errored with the reason, and the rollout decides on that."""
    RolloutStep.objects.filter(pk=step_id, status__in=IN_FLIGHT).update(
        status=StepStatus.ERRORED, output=reason, finished_at=timezone.now())
    advance(_rollout_of(step_id))


def _step_lost(step_id: int, reason: str) -> None:
    # Back through the rollout (pending, then queued by the engine with its
    # timeout); the step looks at the node before doing anything.
    advance(recover.requeue_lost_step(step_id, reason))


def _step_outcome(step_id: int, result) -> tuple[str, str]:
    status, output = RolloutStep.objects.values_list("status", "output").get(pk=step_id)
    if status in (StepStatus.FAILED, StepStatus.ERRORED):
        return status, output
    return "succeeded", ""


def _rollout_of(step_id: int):
    return RolloutStep.objects.values_list("rollout_id", flat=True).get(pk=step_id)


@lifecycle.job(on_error=_step_errored, on_lost=_step_lost, requeue=_step_lost, outcome=_step_outcome)
def run_rollout_step(step_id: int) -> None:
    steps.run(step_id)
    # Whatever happened to this step, the rollout decides what comes next
    # (after an exception, _step_errored does).
    advance(_rollout_of(step_id))


def _decide_again(rollout_id, reason: str) -> None:
    advance(rollout_id)


@lifecycle.job(on_error=None, on_lost=_decide_again)
def advance_rollout(rollout_id) -> None:
    advance(rollout_id)


def enqueue_step(step) -> None:
    """Under the job id the engine saved on the step, once the rows are committed."""
    # Long enough for the longest remote command (a pull may take DOCKER_PULL_TIMEOUT),
    # a reload that does not show (3.0.1+), then fence settling, the restart
    # command, fence coming up and the health wait.
    longest_command = max(settings.SSH_COMMAND_TIMEOUT, settings.DOCKER_PULL_TIMEOUT)
    timeout = int(longest_command + fence_check.RELOAD_WAIT + 2 * fence_check.FENCE_START_TIMEOUT
                  + step.rollout.health_wait + 120)
    queueing.enqueue_on_commit(run_rollout_step, step.pk, job_id=step.job_id, job_timeout=timeout,
                               description=f"rollout {step.rollout_id}: {step.phase} on {step.node.address}",
                               keep_row_if_not_queued=True)


def enqueue_advance(rollout_id) -> None:
    """After commit: a rollout started or cancelled decides in a worker."""
    # A rollout's id is a UUID: it travels as a string (jobs are JSON).
    transaction.on_commit(lambda: _queue_advance(str(rollout_id)))


def _queue_advance(rollout_id: str) -> None:
    # The rollout is committed: raising here would leave it planned with no
    # job and no row for the reconciler (and give the start page a
    # traceback). Its row stays queued; the reconciler queues it again.
    try:
        queueing.enqueue(advance_rollout, rollout_id, description=f"rollout {rollout_id}: decide",
                         keep_row_if_not_queued=True)
    except Exception as error:  # noqa: BLE001 - Redis refused it: the reconciler queues it again
        logger.warning("rollout %s: its decide job could not be queued (%s: %s); the reconciler queues it again",
                       rollout_id, error.__class__.__name__, error)
