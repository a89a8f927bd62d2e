"""One rollout step on one node, run by an RQ worker. Each step is safe to
run again (a retry after a lost worker): it first looks at the node.

fence is watched through the node's supervisord (pid, state, start time),
never through kato's text; fence_check.py says what "verified" is made of."""
from django.conf import settings
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStep, StepStatus
from images import engine
from images.rollouts import audit, fence_check, smoke as smoke_test
from images.rollouts.fence_check import NotVerified
from nodes import remote, ssh
from nodes.kato import Kato, KatoError
from nodes.models.cluster import Cluster
from nodes.models.fence_restart import Outcome
from nodes.supervisor import Supervisor


class StepFailed(Exception):
    """The remote step ran and did not do what it should."""


def run(step_id: int) -> None:
    step = RolloutStep.objects.select_related("rollout__cluster", "node").get(pk=step_id)
    if step.status not in (StepStatus.QUEUED, StepStatus.RUNNING):
        return  # already done: a duplicate delivery
    step.status = StepStatus.RUNNING
    step.attempt += 1
    step.started_at = step.started_at or timezone.now()
    step.save(update_fields=["status", "attempt", "started_at"])
    try:
        with remote.session_pool() as pool:
            output = EXECUTORS[step.phase](step, pool.get(remote.endpoint(step.node)))
        step.status, step.output = StepStatus.SUCCEEDED, output
    except (StepFailed, smoke_test.ImageUnhealthy, ssh.RemoteCommandError) as error:
        step.status, step.output = StepStatus.FAILED, str(error)
    except ssh.SSHError as error:
        step.status, step.output = StepStatus.ERRORED, str(error)
    step.finished_at = timezone.now()
    step.save(update_fields=["status", "output", "finished_at", "fence_pid_before"])


def _behaviour(step) -> str:
    return step.rollout.cluster.kato_behaviour


def pull(step, session) -> str:
    if step.fence_pid_before is None:
        # fence's pid before anything changes: a 3.0.1+ reload must show a new one.
        step.fence_pid_before = Supervisor(session).process_info("fence").pid
    rollout = step.rollout
    if rollout.target is not None and rollout.target.local:
        return _stream(step, session, rollout.target)
    if _holds(session, step.image, rollout.target_pull):
        return f"{step.image} already present"
    result = session.run(["docker", "pull", "--", rollout.target_pull], timeout=settings.SSH_COMMAND_TIMEOUT)
    if result.exit_code != 0:
        raise StepFailed(f"docker pull {rollout.target_pull} failed: {ssh.excerpt(result.stderr or result.stdout)}")
    if rollout.target_pull != step.image:
        # Pulled by digest: fence and kato name the image by its tag.
        session.run(["docker", "tag", "--", rollout.target_pull, step.image], check=True)
    if not _holds(session, step.image, rollout.target_pull):
        raise StepFailed(f"after the pull, {step.image} on the node is not {rollout.target_pull}")
    return f"pulled {rollout.target_pull}: {ssh.excerpt(result.stdout)}"


def _holds(session, image: str, pull_ref: str) -> bool:
    """The node has `image`, and by the pinned digest when there is one."""
    result = session.run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", "--", image])
    if result.exit_code != 0:
        return False
    return "@" not in pull_ref or pull_ref in result.stdout


def _image_id(session, image: str) -> str:
    result = session.run(["docker", "image", "inspect", "--format", "{{.Id}}", "--", image])
    return result.stdout.strip() if result.exit_code == 0 else ""


def _stream(step, session, version) -> str:
    """No registry (the seed's small-cluster path): `docker save` on the build
    engine piped into `docker load` on the node, checked by image id."""
    if _image_id(session, step.image) == version.image_id:
        return f"{step.image} already present"
    try:
        with engine.open_engine(version.cluster) as api:
            result = session.run(["docker", "load"], stdin=api.get_image(version.engine_reference),
                                 timeout=settings.SSH_COMMAND_TIMEOUT)
    except engine.EngineUnavailable as error:
        raise StepFailed(f"the build engine cannot send {version.engine_reference}: {error}") from None
    if result.exit_code != 0:
        raise StepFailed(f"docker load failed: {ssh.excerpt(result.stderr or result.stdout)}")
    if _image_id(session, step.image) != version.image_id:
        raise StepFailed(f"after docker load, {step.image} on the node is not image {version.image_id}")
    return f"streamed {step.image} from the build engine: {ssh.excerpt(result.stdout)}"


def smoke(step, session) -> str:
    return smoke_test.run(step, session)


def set_config(step, session) -> str:
    kato = Kato(session)
    cluster = step.rollout.cluster
    current = kato.desired_image(_behaviour(step), cluster.config_component, cluster.image_key)
    if step.phase == Phase.CONFIG and not step.rollout.previous_image and current != step.image:
        Rollout.objects.filter(pk=step.rollout_id).update(previous_image=current)
    if current == step.image:
        return f"the config already names {step.image}"
    changed_at = timezone.now()
    kato.set_desired_image(_behaviour(step), step.image, cluster.config_component, cluster.image_key)
    # Drift's "not restarted" compares each fence's start with this moment.
    Cluster.objects.filter(pk=cluster.pk).update(desired_image=step.image, desired_image_since=changed_at)
    return f"{cluster.config_component} {cluster.image_key}: {current} -> {step.image} (read back)"


def _image_before(step) -> str:
    """What the node was configured to run before this step: the config's
    previous image (kato cannot say which image a fence runs)."""
    rollout = step.rollout
    return rollout.target_image if step.phase == Phase.REVERT else rollout.previous_image


def restart(step, session) -> str:
    """3.0: restart fence, then verify it (fence_check.py)."""
    kato, supervisor = Kato(session), Supervisor(session)
    before = fence_check.settled(supervisor)
    if step.fence_pid_before is None:
        step.fence_pid_before = before.pid
    # A retry: a fence started after this step began, with another pid, was
    # restarted by the lost worker that ran the step before.
    if step.attempt > 1 and fence_check.started_since(before, step.started_at, step.fence_pid_before):
        recorded = audit.already_recorded(step)
        return _verify(step, session, since=step.started_at, exit_code=None, audit_row=not recorded,
                       note="" if recorded else "restart observed after a worker loss")
    started_at = timezone.now()
    step.fence_pid_before = before.pid
    try:
        result = kato.process_restart("fence", timeout=settings.SSH_COMMAND_TIMEOUT)
    except ssh.CommandTimeout as error:
        audit.record(step, started_at=started_at, image_before=_image_before(step), outcome=Outcome.TIMED_OUT,
                     output=str(error))
        raise StepFailed(str(error)) from None
    except KatoError as error:
        result = error.result
        audit.record(step, started_at=started_at, image_before=_image_before(step), outcome=Outcome.FAILED,
                     exit_code=result.exit_code if result else None, output=str(error))
        raise StepFailed(str(error)) from None
    return _verify(step, session, since=started_at, exit_code=result.exit_code, output=result.stdout)


def _config_changed_at(step):
    phase = Phase.REVERT_CONFIG if step.phase == Phase.REVERT else Phase.CONFIG
    config = step.rollout.steps.filter(phase=phase).first()
    return config.started_at if config and config.started_at else step.started_at


def observe(step, session) -> str:
    """3.0.1+: fence reloads by itself on the config change. Seen as a new
    fence process started after the change; a fence that keeps its process
    (a reload inside it, which supervisord cannot show) is restarted with
    kato so the node provably runs a fence started after the change."""
    since = _config_changed_at(step)
    supervisor = Supervisor(session)
    try:
        fence, reloaded = fence_check.wait_for_new_fence(supervisor, since=since, pid_before=step.fence_pid_before,
                                                         timeout=fence_check.RELOAD_WAIT)
    except NotVerified as error:
        return _bad(step, since, None, str(error), audit_row=not audit.already_recorded(step))
    if not reloaded and fence.state == "RUNNING":
        note = (f"no new fence process within {fence_check.RELOAD_WAIT} s of the config change "
                f"(still {fence_check.describe(fence)}): restarted it")
        return restart(step, session) + f"; {note}"
    return _verify(step, session, since=since, exit_code=None, note="fence reloaded on the config change",
                   audit_row=not audit.already_recorded(step))


def revert(step, session) -> str:
    return (observe if step.rollout.cluster.kato_behaviour != "3.0" else restart)(step, session)


def _engine_holds(step, session) -> str:
    rollout = step.rollout
    if step.image == rollout.target_image and rollout.target is not None and rollout.target.local:
        if _image_id(session, step.image) != rollout.target.image_id:
            raise NotVerified(f"the node's engine does not hold {step.image} as image {rollout.target.image_id}")
        return f"engine holds {step.image} as {rollout.target.image_id[:19]}"
    pull_ref = rollout.target_pull if step.image == rollout.target_image else step.image
    if not _holds(session, step.image, pull_ref):
        raise NotVerified(f"the node's engine does not hold {pull_ref}")
    return f"engine holds {pull_ref}"


def _verify(step, session, *, since, exit_code, output: str = "", note: str = "", audit_row: bool = True) -> str:
    """fence_check.py's definition of verified, written to the audit row either way."""
    supervisor, kato = Supervisor(session), Kato(session)
    try:
        fence, started = fence_check.wait_for_new_fence(supervisor, since=since, pid_before=step.fence_pid_before,
                                                        timeout=fence_check.FENCE_START_TIMEOUT)
        if not started:
            raise NotVerified(f"no fence started since {since:%H:%M:%S} within {fence_check.FENCE_START_TIMEOUT} s "
                              f"(fence is {fence_check.describe(fence)})")
        fence_check.watch(supervisor, fence, step.rollout.health_wait)
        fence_check.config_names(kato, step.rollout.cluster, step.image)
        holds = _engine_holds(step, session)
        ready = fence_check.ready_note(kato)
    except NotVerified as error:
        return _bad(step, since, exit_code, str(error), audit_row)
    summary = (f"verified: config names {step.image}; {holds}; fence pid {step.fence_pid_before or '?'} -> "
               f"{fence.pid}, started {fence.started:%H:%M:%S} (after {since:%H:%M:%S}), RUNNING for "
               f"{step.rollout.health_wait} s; {ready}" + (f"; {note}" if note else ""))
    if audit_row:
        audit.record(step, started_at=_audit_start(step, since), image_before=_image_before(step), outcome=Outcome.SUCCEEDED,
                     exit_code=exit_code, output=f"{output}\n{summary}".strip())
    return summary


def _audit_start(step, since):
    """When the restart began: the kato restart (3.0), or this step's start for
    a reload caused by the config change (so a retry finds the row it wrote)."""
    return max(since, step.started_at) if step.started_at else since


def _bad(step, since, exit_code, why: str, audit_row: bool):
    if audit_row:
        audit.record(step, started_at=_audit_start(step, since), image_before=_image_before(step), outcome=Outcome.FAILED,
                     exit_code=exit_code, output=why)
    raise StepFailed(why)


EXECUTORS = {
    Phase.PULL: pull, Phase.SMOKE: smoke, Phase.CONFIG: set_config, Phase.REVERT_CONFIG: set_config,
    Phase.RESTART: restart, Phase.OBSERVE: observe, Phase.REVERT: revert,
}
