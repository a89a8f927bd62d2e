"""One rollout step on one node, run by an RQ worker. Each step is safe to
run again (a retry after a lost worker): it first looks at the node."""
import time

from django.conf import settings
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStep, StepStatus
from images import engine
from images.rollouts import audit
from nodes import remote, ssh
from nodes.kato import Kato, KatoError
from nodes.models.fence_restart import Outcome

# How long fence may take to come up (or to reload) after a restart or a config change.
FENCE_START_TIMEOUT = 60


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
    except (StepFailed, ssh.RemoteCommandError) as error:
        step.status, step.output = StepStatus.FAILED, str(error)
    except ssh.SSHError as error:
        step.status, step.output = StepStatus.ERRORED, str(error)
    step.finished_at = timezone.now()
    step.save(update_fields=["status", "output", "finished_at", "fence_pid_before", "fence_image_before"])


def _behaviour(step) -> str:
    return step.rollout.cluster.kato_behaviour


def pull(step, session) -> str:
    fence = Kato(session).process("fence")
    if step.fence_pid_before is None:
        step.fence_pid_before, step.fence_image_before = fence.pid, fence.image or ""
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
    name = f"stackato-dash-smoke-{step.rollout_id.hex[:12]}"
    session.run(["docker", "rm", "-f", name])
    started = session.run(["docker", "run", "-d", "--network", "none", "--name", name, step.image])
    try:
        if started.exit_code != 0:
            raise StepFailed(f"the image does not start: {ssh.excerpt(started.stderr)}")
        time.sleep(2)
        state = session.run(["docker", "inspect", "--format", "{{.State.Running}}", name])
        if state.stdout.strip() != "true":
            logs = session.run(["docker", "logs", "--tail", "20", name])
            raise StepFailed(f"a container of the image stopped at once: {ssh.excerpt(logs.stdout + logs.stderr)}")
    finally:
        session.run(["docker", "rm", "-f", name])
    return f"a container of {step.image} ran on {step.node.address}"


def set_config(step, session) -> str:
    kato = Kato(session)
    cluster = step.rollout.cluster
    current = kato.desired_image(_behaviour(step), cluster.config_component, cluster.image_key)
    if step.phase == Phase.CONFIG and not step.rollout.previous_image and current != step.image:
        Rollout.objects.filter(pk=step.rollout_id).update(previous_image=current)
    if current == step.image:
        return f"the config already names {step.image}"
    kato.set_desired_image(_behaviour(step), step.image, cluster.config_component, cluster.image_key)
    return f"{cluster.config_component} {cluster.image_key}: {current} -> {step.image} (read back)"


def restart(step, session) -> str:
    """3.0: restart fence, then verify it stays RUNNING on the image."""
    kato = Kato(session)
    before = _settled(kato)
    if step.fence_pid_before is None:
        step.fence_pid_before, step.fence_image_before = before.pid, before.image or ""
    restarted_earlier = before.pid != step.fence_pid_before and before.image == step.image
    if restarted_earlier and audit.already_recorded(step):
        return _verify(step, kato, started_at=step.started_at, exit_code=None, audit_row=False)
    if restarted_earlier:
        # A lost worker restarted it but did not live to write the audit row.
        return _verify(step, kato, started_at=step.started_at, exit_code=None, note="restart observed after a worker loss")
    started_at = timezone.now()
    try:
        result = kato.process_restart("fence", timeout=settings.SSH_COMMAND_TIMEOUT)
    except ssh.CommandTimeout as error:
        audit.record(step, started_at=started_at, image_before=step.fence_image_before, outcome=Outcome.TIMED_OUT, output=str(error))
        raise StepFailed(str(error)) from None
    except KatoError as error:
        result = error.result
        audit.record(step, started_at=started_at, image_before=step.fence_image_before, outcome=Outcome.FAILED,
                     exit_code=result.exit_code if result else None, output=str(error))
        raise StepFailed(str(error)) from None
    return _verify(step, kato, started_at=started_at, exit_code=result.exit_code, output=result.stdout)


def _settled(kato):
    """fence once it is not half-way through a stop or start (a retry can
    arrive while the restart a lost worker began is still going on)."""
    deadline = time.monotonic() + FENCE_START_TIMEOUT
    fence = kato.process("fence")
    while fence.state in ("STOPPING", "STARTING", "BACKOFF") and time.monotonic() < deadline:
        time.sleep(0.5)
        fence = kato.process("fence")
    return fence


def observe(step, session) -> str:
    """3.0.1+: fence reloads by itself on the config change; see it happen."""
    return _verify(step, Kato(session), started_at=step.started_at, exit_code=None,
                   note="fence reloaded on the config change", audit_row=not audit.already_recorded(step))


def revert(step, session) -> str:
    return (observe if step.rollout.cluster.kato_behaviour != "3.0" else restart)(step, session)


def _verify(step, kato, *, started_at, exit_code, output: str = "", note: str = "", audit_row: bool = True) -> str:
    """Wait for fence RUNNING on the image with a new pid, then for the health wait on the same pid."""
    deadline = time.monotonic() + FENCE_START_TIMEOUT
    while True:
        fence = kato.process("fence")
        # A new pid proves a restart; a revert observed on 3.0.1+ has no pid
        # from before, and the image alone tells it.
        new_pid = step.fence_pid_before is None or fence.pid != step.fence_pid_before
        if fence.state == "RUNNING" and fence.image == step.image and new_pid:
            break
        if fence.state == "FATAL" or time.monotonic() > deadline:
            return _bad(step, started_at, exit_code, f"fence is {fence.state} (image {fence.image or 'none'}) "
                        f"{'after ' + str(FENCE_START_TIMEOUT) + ' s' if fence.state != 'FATAL' else ''}", audit_row)
        time.sleep(0.5)
    time.sleep(step.rollout.health_wait)
    after = kato.process("fence")
    if after.state != "RUNNING" or after.pid != fence.pid:
        return _bad(step, started_at, exit_code, f"fence did not stay up for {step.rollout.health_wait} s "
                    f"(now {after.state}, pid {fence.pid} -> {after.pid})", audit_row)
    summary = f"fence RUNNING pid {fence.pid} on {step.image} for {step.rollout.health_wait} s" + (f"; {note}" if note else "")
    if audit_row:
        audit.record(step, started_at=started_at, image_before=step.fence_image_before, outcome=Outcome.SUCCEEDED,
                     exit_code=exit_code, output=f"{output}\n{summary}".strip())
    return summary


def _bad(step, started_at, exit_code, why: str, audit_row: bool):
    if audit_row:
        audit.record(step, started_at=started_at, image_before=step.fence_image_before, outcome=Outcome.FAILED,
                     exit_code=exit_code, output=why)
    raise StepFailed(why)


EXECUTORS = {
    Phase.PULL: pull, Phase.SMOKE: smoke, Phase.CONFIG: set_config, Phase.REVERT_CONFIG: set_config,
    Phase.RESTART: restart, Phase.OBSERVE: observe, Phase.REVERT: revert,
}
