"""Start a rollout (or a rollback): the rows first, then the queue."""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from images import name_collisions, references
from images.models.rollout import Phase, Rollout, RolloutKind, RolloutStep
from images.rollouts import governance, pull_check
from images.rollouts import plan as planning
from stackato_dash import queueing


class RolloutRefused(Exception):
    """Nothing was started; the message says why."""


def start(*, cluster, target_image: str, target_pull: str, target=None, kind=RolloutKind.ROLLOUT, undoes=None,
          user, reason: str, canaries: int = 1, max_in_flight: "str | planning.MaxInFlight" = "1", failure_threshold: int = 0,
          health_wait: int = 5, auto_rollback: bool = True, distribute_only: bool = False,
          manual_gate: bool = False) -> Rollout:
    if not reason.strip():
        raise RolloutRefused("A reason is required: it goes into the audit history of every fence restart.")
    try:
        in_flight = planning.MaxInFlight.parse(max_in_flight)
    except ValidationError as error:
        raise RolloutRefused(f"Max in flight: {error.messages[0]} Nothing was started.") from None
    for what, ref in (("image to activate", target_image), ("image to pull", target_pull)):
        # A rollback's target was read from a node's config: data, never an option for docker.
        try:
            references.parse(ref)
        except ValueError as error:
            raise RolloutRefused(f"The {what} is not an image reference ({error}); nothing was started.") from None
    gate_refused = _gate_refusal(cluster, canaries, distribute_only) if manual_gate else ""
    if gate_refused:
        raise RolloutRefused(gate_refused)
    if cluster.core_node is None or not cluster.core_node.is_trusted:
        raise RolloutRefused(f"The Core node {cluster.core_address} is not trusted: the config is set through it.")
    try:
        queueing.require_worker()
    except queueing.NoWorker as error:
        raise RolloutRefused(str(error)) from None
    plan = planning.make_plan(cluster, target_image, canaries=canaries, max_in_flight=in_flight, image_size=None)
    if not plan.nodes:
        excluded = "; ".join(f"{node.address}: {why}" for node, why in plan.excluded) or "the cluster has no DEA node"
        raise RolloutRefused(f"No DEA node can take part ({excluded}).")
    if manual_gate and plan.has_canaries and len(plan.batches) == 1:
        # Asked for, then silently never reached: the whole fleet would switch with no one judging it.
        raise RolloutRefused(f"A manual gate waits after the canaries, and all {len(plan.nodes)} DEA node(s) taking "
                             "part are canaries: no node is left for the gate to hold. Set fewer canaries. "
                             "Nothing was started.")
    # A node whose engine cannot pull from the registry would fail its pull
    # (or, 3.0.1+, run fence on an image it lacks): refuse before anything changes.
    cannot_pull = pull_check.refusal(cluster, target_pull)
    if cannot_pull:
        raise RolloutRefused(cannot_pull)
    try:
        with transaction.atomic():
            rollout = Rollout.objects.create(
                cluster=cluster, target=target, target_image=target_image, target_pull=target_pull, kind=kind,
                undoes=undoes, requested_by=user, requested_by_username=user.get_username(), reason=reason,
                canaries=canaries, max_in_flight=str(in_flight), failure_threshold=failure_threshold,
                health_wait=health_wait, auto_rollback=auto_rollback, distribute_only=distribute_only,
                **governance.initial_fields(cluster),
                manual_gate=manual_gate, left_out=plan.left_out())
            RolloutStep.objects.bulk_create(
                RolloutStep(rollout=rollout, node=node, phase=Phase.PULL, batch=plan.batch_of(node), image=target_image)
                for node in plan.nodes)
            governance.begin(rollout)  # awaits approval, waits for a window, or is queued
    except IntegrityError:
        raise RolloutRefused(f"{cluster} already has a rollout in progress: wait for it, or cancel it.") from None
    return rollout


def _gate_refusal(cluster, canaries: int, distribute_only: bool) -> str:
    """The manual gate waits after the canaries: a strategy without canaries has no such moment."""
    if distribute_only:
        return "A manual gate waits after the canaries, and a distribution activates nothing: nothing was started."
    if cluster.fence_reloads_on_change:
        return (f"A manual gate waits after the canaries, and {cluster} reloads every DEA at once on the config "
                "(3.0.1+): there are no canaries to wait after. Nothing was started.")
    if canaries == 0:
        return "A manual gate waits after the canaries: set at least one canary. Nothing was started."
    return ""


def rollout_version(version, **options) -> Rollout:
    """Roll an ImageVersion out: nodes pull it by digest, the config names its tag."""
    if not version.image_id or version.status not in ("pushed", "built"):
        raise RolloutRefused(f"{version} is {version.status}: only a built (and pushed) version can be rolled out.")
    collision = name_collisions.version_collision(version)
    if collision:
        raise RolloutRefused(collision)
    if version.local:
        # No registry: each node gets it streamed from the build engine.
        return start(cluster=version.cluster, target=version, target_image=version.engine_reference,
                     target_pull=version.engine_reference, **options)
    if not version.registry_reference:
        raise RolloutRefused(f"{version} is built but not pushed yet: push it to the cluster registry first.")
    return start(cluster=version.cluster, target=version, target_image=version.registry_reference,
                 target_pull=version.pull_reference, **options)


def undo(rollout, **options) -> Rollout:
    """Back to the image a finished rollout replaced."""
    if not rollout.is_finished:
        raise RolloutRefused("This rollout has not finished: cancel it first.")
    if not rollout.previous_image:
        raise RolloutRefused("This rollout never read the image it replaced, so there is nothing to go back to.")
    earlier = rollout.cluster.image_versions.filter(registry_reference=rollout.previous_image).first()
    pull = earlier.pull_reference if earlier and earlier.manifest_digest else rollout.previous_image
    return start(cluster=rollout.cluster, target=earlier, target_image=rollout.previous_image, target_pull=pull,
                 kind=RolloutKind.ROLLBACK, undoes=rollout, **options)
