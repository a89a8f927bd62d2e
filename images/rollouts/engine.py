"""What a rollout does next. Called after every step a worker finishes (and
once at start): under a row lock it reads the steps, decides, records the
decision on the row, marks the next steps queued and returns them. It
queues nothing itself: jobs.advance() hands the decision to the queue once
the rows are committed. No loop waits anywhere: the queue and the workers
carry the work, so more workers give more parallelism.
"""
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from images.models.rollout import (BAD, DONE, IN_FLIGHT, NOT_STARTED, GateDecision, Phase, Rollout, RolloutStatus, RolloutStep,
                                   StepStatus)
from images.models.rollout_event import EventKind, RolloutEvent
from images.rollouts.plan import left_out_note
from nodes.models import FenceRestart
from nodes.models.fence_restart import Outcome

WORK_PHASES = (Phase.RESTART, Phase.OBSERVE)


@dataclass
class Decision:
    """What one advance() decided to run: the steps it marked queued, each
    with its RQ job id already saved on the row, in the order to queue them."""
    rollout_id: object
    queue: list[int] = field(default_factory=list)  # RolloutStep primary keys


def advance(rollout_id) -> Decision:
    decision = Decision(rollout_id)
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update().select_related("cluster").get(pk=rollout_id)
        if rollout.is_finished or rollout.status in NOT_STARTED:
            return decision  # nothing to decide (NOT_STARTED: approval.py, windows.py start it)
        {RolloutStatus.PLANNED: _distributing, RolloutStatus.DISTRIBUTING: _distributing,
         RolloutStatus.ACTIVATING: _activating, RolloutStatus.ROLLING_BACK: _rolling_back,
         RolloutStatus.AWAITING_GATE: _at_gate}[rollout.status](
            rollout, decision)
        rollout.save()
    return decision


def decide(rollout, line: str) -> None:
    rollout.decisions += f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}\n"


def finish(rollout, status: str, reason: str) -> None:
    rollout.status = status
    rollout.status_reason = reason
    rollout.finished_at = timezone.now()
    decide(rollout, f"{status}: {reason}")


def _steps(rollout, *phases) -> list[RolloutStep]:
    return list(rollout.steps.filter(phase__in=phases).select_related("node").order_by("batch", "node__address"))


def _limit(rollout, total: int) -> int:
    # Paused: the steps in flight finish, no further one starts. A rollback
    # is never held (as cancel never stops one): the config goes back first.
    # Nor is a cancel: every branch skips what it would start, except "stop
    # here" on 3.0.1+, where each DEA reloads on the config anyway and is
    # still verified; held, that rollout would never end.
    if rollout.paused and rollout.status != RolloutStatus.ROLLING_BACK and not rollout.cancel_requested:
        return 0
    return rollout.in_flight.of(total)


def _launch(decision: Decision, steps, limit: int) -> None:
    """Mark pending steps queued while fewer than `limit` of them are in flight."""
    in_flight = sum(step.status in IN_FLIGHT for step in steps)
    for step in steps:
        if in_flight >= limit:
            break
        if step.status == StepStatus.PENDING:
            step.status = StepStatus.QUEUED
            step.job_id = str(uuid.uuid4())
            step.save(update_fields=["status", "job_id"])
            decision.queue.append(step.pk)
            in_flight += 1


def _skip_pending(steps) -> None:
    for step in steps:
        if step.status == StepStatus.PENDING:
            step.status = StepStatus.SKIPPED
            step.save(update_fields=["status"])


def _addresses(steps) -> str:
    return ", ".join(step.node.address for step in steps)


def _what_each_showed(rollout, failed) -> None:
    """One line per failed node with the check that failed there (the step's
    output): the decision to stop names only the addresses."""
    for step in failed:
        decide(rollout, f"{step.phase} on {step.node.address} {step.status}: {step.output[-300:] or '(no output)'}")


def _distributing(rollout, decision: Decision) -> None:
    """Every node pulls; each smoke test starts as soon as its node holds the
    image, while the others still pull (it sat after the last pull before).
    Nothing changes the config until every pull and every smoke test succeeded."""
    if rollout.status == RolloutStatus.PLANNED:
        rollout.status = RolloutStatus.DISTRIBUTING
        rollout.started_at = timezone.now()
        decide(rollout, f"distributing the image to every node taking part; left out: {rollout.left_out}"
                        if rollout.left_out else "distributing the image to every node")
    pulls = _steps(rollout, Phase.PULL)
    smokes = _smoke_steps(rollout, pulls)
    failed = [step for step in pulls if step.status in BAD]
    unhealthy = [step for step in smokes if step.status in BAD]
    if failed or unhealthy or rollout.cancel_requested:
        _skip_pending(pulls + smokes)
        if any(step.status in IN_FLIGHT for step in pulls + smokes):
            return  # the pulls and smoke tests in flight finish first
        if failed:
            smoke_note = f"; {_smoke_failed(unhealthy)}" if unhealthy else ""
            finish(rollout, RolloutStatus.FAILED, f"the pull failed on {_addresses(failed)}{smoke_note}: the cluster "
                                                   "config was not changed and no fence was restarted")
        elif unhealthy:
            finish(rollout, RolloutStatus.FAILED, f"{_smoke_failed(unhealthy)}: the cluster config was not changed "
                                                   "and no fence was restarted")
        else:
            finish(rollout, RolloutStatus.CANCELLED, "cancelled during distribution: the cluster config was not changed")
        return
    _launch_pulls_and_smokes(rollout, decision, pulls, smokes)
    if all(step.status == StepStatus.SUCCEEDED for step in pulls) and rollout.distribute_only:
        finish(rollout, RolloutStatus.SUCCEEDED, f"all {len(pulls)} nodes hold {rollout.target_image}; "
                                                 f"not activated (distribute only){left_out_note(rollout)}")
    elif all(step.status == StepStatus.SUCCEEDED for step in pulls):
        rollout.status = RolloutStatus.ACTIVATING
        decide(rollout, f"all {len(pulls)} nodes hold {rollout.target_image}; activating")
        _create_activation_steps(rollout, pulls)
        _activating(rollout, decision)  # its first gate waits for (or starts) the smoke tests left


def _smoke_failed(unhealthy) -> str:
    return f"the smoke test failed on {_addresses(unhealthy)} ({unhealthy[0].output[-300:]})"


def _smoke_steps(rollout, pulls) -> list[RolloutStep]:
    """The smoke steps, created with the first decision (once: the caller
    holds the rollout's row lock, and they exist from then on). None for a
    distribution, which activates nothing and so runs no smoke test."""
    if rollout.distribute_only:
        return []
    smokes = _steps(rollout, Phase.SMOKE)
    if not smokes:
        for node in _smoke_nodes(rollout, pulls):
            RolloutStep.objects.create(rollout=rollout, node=node, phase=Phase.SMOKE, image=rollout.target_image)
        smokes = _steps(rollout, Phase.SMOKE)
    return smokes


def _launch_pulls_and_smokes(rollout, decision: Decision, pulls, smokes) -> None:
    """One max in flight for both (each is a job on a node). A smoke test whose
    node holds the image comes first: it is on the way to the config. The
    smoke nodes' pulls are first in `pulls` (_smoke_nodes picks the nodes
    _steps orders first), so they are launched before the others'."""
    pulled = {step.node_id for step in pulls if step.status == StepStatus.SUCCEEDED}
    ready = [step for step in smokes if step.node_id in pulled]
    _launch(decision, ready + pulls, _limit(rollout, len(pulls)))
    still_pulling = sum(step.status != StepStatus.SUCCEEDED for step in pulls)
    for step in ready:
        if step.pk in decision.queue and still_pulling:
            decide(rollout, f"smoke test on {step.node.address} while the others pull "
                            f"({still_pulling} pull(s) not finished)")


def _smoke_nodes(rollout, pulls) -> list:
    """Where the image is first run as a container, before the config changes:
    one DEA on 3.0.1+ (every DEA reloads at once: no canary is possible
    through the config), each node of the first batch (the canaries) on 3.0."""
    if rollout.cluster.fence_reloads_on_change:
        return [pulls[0].node]
    first = min(pull.batch for pull in pulls)
    return [pull.node for pull in pulls if pull.batch == first]


def _create_activation_steps(rollout, pulls) -> None:
    """The config and node steps, created once: only the decision that moves
    the rollout to activating (under its row lock) calls this. The smoke
    steps exist already (_smoke_steps)."""
    core = rollout.cluster.core_node
    reload = rollout.cluster.fence_reloads_on_change
    RolloutStep.objects.create(rollout=rollout, node=core, phase=Phase.CONFIG, image=rollout.target_image)
    for pull in pulls:
        RolloutStep.objects.create(
            rollout=rollout, node=pull.node, phase=Phase.OBSERVE if reload else Phase.RESTART, batch=pull.batch,
            image=rollout.target_image, fence_pid_before=pull.fence_pid_before)


def _gate(rollout, decision: Decision, phase, cancellable: bool = True) -> str:
    """'done', 'wait', 'bad' or 'cancelled' for a phase that must finish on
    every node before anything else runs (smoke tests, config set). Setting
    the config back is not cancellable: a rollback always completes."""
    steps = list(rollout.steps.filter(phase=phase).order_by("id"))
    if all(step.status == StepStatus.SUCCEEDED for step in steps):
        return "done"
    if any(step.status in BAD for step in steps):
        _skip_pending(steps)
        return "wait" if any(step.status in IN_FLIGHT for step in steps) else "bad"
    if rollout.cancel_requested and cancellable:
        _skip_pending(steps)
        return "wait" if any(step.status in IN_FLIGHT for step in steps) else "cancelled"
    _launch(decision, steps, _limit(rollout, len(steps)))
    return "wait"


def _activating(rollout, decision: Decision) -> None:
    # Smoke tests still in flight (or not started: a smoke node's pull was
    # among the last) hold the config as they did during the distribution.
    for phase, what in ((Phase.SMOKE, "the smoke test"), (Phase.CONFIG, "setting the cluster config")):
        gate = _gate(rollout, decision, phase)
        if gate == "wait":
            return
        if gate == "cancelled":
            _skip_pending(_steps(rollout, Phase.CONFIG, *WORK_PHASES))
            finish(rollout, RolloutStatus.CANCELLED, "cancelled before the cluster config was changed")
            return
        if gate == "bad":
            bad = [step for step in _steps(rollout, phase) if step.status in BAD]
            if phase == Phase.SMOKE:
                _skip_pending(_steps(rollout, Phase.CONFIG, *WORK_PHASES))
                finish(rollout, RolloutStatus.FAILED, f"{_smoke_failed(bad)}: the cluster config was not changed "
                                                      "and no fence was restarted")
            else:
                # No node restarts after a failed config step: none is left "pending" in an ended rollout.
                _skip_pending(_steps(rollout, *WORK_PHASES))
                _fail(rollout, decision, f"{what} failed: {bad[0].output[-300:]}")
            return
    work = _steps(rollout, *WORK_PHASES)
    failed = [step for step in work if step.status in BAD]
    # Batch 0 holds the canaries only when there are some (3.0, canaries > 0).
    canary_failed = rollout.canaries > 0 and not rollout.cluster.fence_reloads_on_change and any(step.batch == 0 for step in failed)
    if canary_failed or len(failed) > rollout.failure_threshold:
        _skip_pending(work)
        if any(step.status in IN_FLIGHT for step in work):
            return
        why = "the canary failed" if canary_failed else f"{len(failed)} node(s) failed, more than the threshold of {rollout.failure_threshold}"
        _what_each_showed(rollout, failed)
        _fail(rollout, decision, f"{why} ({_addresses(failed)})")
        return
    if rollout.cancel_requested and _cancelled_after_config(rollout, decision, work):
        return
    limit = _limit(rollout, len(work))
    if rollout.cluster.fence_reloads_on_change:
        _launch(decision, work, limit)
    else:
        # The first batch (the canaries, or the first max in flight nodes
        # without them) alone, to its end: the image and config first run
        # there (smoke test, kato's ready, the manual gate). Then every later
        # node in one window: a node starts as soon as any step before it
        # ends, so a slow node holds its own slot, not a whole batch.
        current = min((step.batch for step in work if step.status not in DONE), default=None)
        if current is not None and _held_at_gate(rollout, work, current):
            return
        if current is not None:
            _launch(decision, [step for step in work if (step.batch == 0) == (current == 0)], limit)
    if all(step.status in DONE for step in work):
        if rollout.cancel_requested:
            finish(rollout, RolloutStatus.CANCELLED, _where_it_stopped(rollout, work))
            return
        note = f"; {len(failed)} failed within the threshold ({_addresses(failed)})" if failed else ""
        finish(rollout, RolloutStatus.SUCCEEDED,
               f"{len(work) - len(failed)} node(s) run {rollout.target_image}{note}{left_out_note(rollout)}")


RELOADS_NOTE = "every DEA reloads on it (3.0.1+)"


def _held_at_gate(rollout, work, batch: int) -> bool:
    """The manual gate (3.0 with canaries): once the canaries (batch 0) all
    succeeded, no later batch starts until someone presses Continue."""
    if not rollout.manual_gate or rollout.canaries == 0 or batch == 0 or rollout.gate_decision == GateDecision.CONTINUE:
        return False
    rollout.status = RolloutStatus.AWAITING_GATE
    canaries = _addresses([step for step in work if step.batch == 0])
    decide(rollout, f"the canaries succeeded ({canaries}): waiting at the manual gate for Continue or Roll back")
    RolloutEvent.record(rollout, EventKind.GATE_WAITING, reason=f"canaries succeeded on {canaries}")
    return True


def _at_gate(rollout, decision: Decision) -> None:
    """Waiting at the manual gate: what was pressed (manual_gate.py) or a
    cancel. Nothing else moves it: no step is in flight here."""
    if rollout.gate_decision == GateDecision.ROLL_BACK:
        work = _steps(rollout, *WORK_PHASES)
        _skip_pending(work)
        if rollout.previous_image:
            _roll_back(rollout, decision, "Roll back pressed at the manual gate")
        else:
            finish(rollout, RolloutStatus.CANCELLED, "Roll back pressed at the manual gate, but the image it replaced "
                                                     "is unknown: " + _where_it_stopped(rollout, work))
        return
    if rollout.gate_decision == GateDecision.CONTINUE or rollout.cancel_requested:
        rollout.status = RolloutStatus.ACTIVATING
        if rollout.gate_decision == GateDecision.CONTINUE:
            decide(rollout, "Continue pressed at the manual gate: the other DEAs start")
        _activating(rollout, decision)


def _cancelled_after_config(rollout, decision: Decision, work) -> bool:
    """Cancel once the config names the target: True when the rollout stops
    (or waits for the steps in flight), False when its steps go on.
    "Stop and roll back" sets the config back and restarts what switched.
    "Stop here" on 3.0 starts no further restart and says where each node
    is; on 3.0.1+ every DEA reloads on the config anyway, so each reload is
    still verified and audited (skipping them would hide restarts)."""
    if not rollout.cancel_rolls_back and rollout.cluster.fence_reloads_on_change:
        line = f"cancel requested: the cluster config names {rollout.target_image} and {RELOADS_NOTE}: " \
               "each node is still verified and audited"
        if line not in rollout.decisions:
            decide(rollout, line)
        return False
    _skip_pending(work)
    if any(step.status in IN_FLIGHT for step in work):
        return True
    if not rollout.cancel_rolls_back:
        finish(rollout, RolloutStatus.CANCELLED, _where_it_stopped(rollout, work))
    elif not rollout.previous_image:
        finish(rollout, RolloutStatus.CANCELLED, "the image it replaced is unknown, so it cannot roll back; "
                                                 + _where_it_stopped(rollout, work))
    else:
        _roll_back(rollout, decision, "cancelled: stop and roll back")
    return True


def _where_it_stopped(rollout, work) -> str:
    """A cancelled rollout's honest picture: the config, and each node."""
    done = _addresses([step for step in work if step.status == StepStatus.SUCCEEDED]) or "no node"
    bad = _addresses([step for step in work if step.status in BAD])
    rest = _addresses([step for step in work if step.status not in (StepStatus.SUCCEEDED, *BAD)])
    picture = f"cancelled after the config was changed: the cluster config names {rollout.target_image}; "
    if rollout.cluster.fence_reloads_on_change:
        picture += f"{RELOADS_NOTE}: verified on {done}"
        rest = rest and f"; not verified: {rest}"
    else:
        picture += f"fence restarted onto it on {done}"
        rest = rest and f"; still running {rollout.previous_image or 'the image before'} until their fence restarts: {rest}"
    return picture + (f"; did not verify on {bad}" if bad else "") + rest + left_out_note(rollout)


def _fail(rollout, decision: Decision, reason: str) -> None:
    # A cancel with "stop and roll back" asked for the rollback too.
    if not ((rollout.auto_rollback or rollout.cancel_rolls_back) and rollout.previous_image):
        config_set = rollout.steps.filter(phase=Phase.CONFIG, status=StepStatus.SUCCEEDED).exists()
        finish(rollout, RolloutStatus.FAILED, f"{reason}; not rolled back{left_out_note(rollout) if config_set else ''}")
        return
    _roll_back(rollout, decision, reason)


def _roll_back(rollout, decision: Decision, reason: str) -> None:
    """The config back first (never cancelled), then the nodes that need it."""
    rollout.status = RolloutStatus.ROLLING_BACK
    decide(rollout, f"{reason}; rolling back to {rollout.previous_image}")
    if rollout.paused:
        # A rollback is never held: left set, the flag would show the rollout
        # "paused" (and offer Resume) while its revert restarts run.
        rollout.paused = False
        decide(rollout, "the pause no longer holds: a rollback always completes")
    RolloutStep.objects.create(rollout=rollout, node=rollout.cluster.core_node, phase=Phase.REVERT_CONFIG,
                               image=rollout.previous_image)
    reload = rollout.cluster.fence_reloads_on_change
    for step in _steps(rollout, *WORK_PHASES):
        # 3.0: only nodes whose fence was restarted need it again; 3.0.1+: all reload.
        if reload or _restarted(rollout, step):
            RolloutStep.objects.create(rollout=rollout, node=step.node, phase=Phase.REVERT, batch=step.batch,
                                       image=rollout.previous_image)
    _rolling_back(rollout, decision)


def _restarted(rollout, step) -> bool:
    """The audit says fence may have been restarted onto the target there (an
    open row counts). A step that never reached the node (down, host key
    changed) or whose kato touched nothing wrote none that counts: reverting
    it would restart a fence that never left the previous image."""
    return FenceRestart.objects.filter(correlation_id=rollout.id, node_id=step.node_id, image_after=step.image).exclude(
        outcome=Outcome.NOT_RESTARTED).exists()


def _rolling_back(rollout, decision: Decision) -> None:
    gate = _gate(rollout, decision, Phase.REVERT_CONFIG, cancellable=False)
    if gate == "wait":
        return
    reverts = _steps(rollout, Phase.REVERT)
    if gate == "bad":
        _skip_pending(reverts)
        finish(rollout, RolloutStatus.ERRORED, "could not set the cluster config back; nodes are shown with their images")
        return
    _launch(decision, reverts, _limit(rollout, len(reverts) or 1))
    if all(step.status in DONE for step in reverts):
        failed = [step for step in reverts if step.status in BAD]
        note = f"; fence did not come back on {_addresses(failed)}" if failed else ""
        finish(rollout, RolloutStatus.ROLLED_BACK, f"config and {len(reverts)} node(s) back on {rollout.previous_image}{note}")
