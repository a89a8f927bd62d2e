"""One rollout step on one node, run by an RQ worker. Each step is safe to
run again (a retry after a lost worker): it first looks at the node.

fence is watched through the node's supervisord (pid, state, start time),
never through kato's text; fence_check.py says what "verified" is made of."""
import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStep, StepStatus
from images import engine
from images.rollouts import audit, config_facts, config_read, fence_check, node_engine, smoke as smoke_test, verified_facts
from images.rollouts.fence_check import NotVerified
from nodes import config_history, remote, ssh
from nodes.kato import Kato, KatoError
from nodes.models.fence_restart import AppendOnlyError, FenceRestart, Outcome
from nodes.supervisor import Supervisor


logger = logging.getLogger(__name__)


class StepFailed(Exception):
    """The remote step ran and did not do what it should."""


def run(step_id: int) -> None:
    # The claim is one conditional UPDATE: of two deliveries of one step (its
    # job delivered twice), only the one that finds it QUEUED runs it; the
    # other would otherwise restart fence a second time. A lost step comes
    # back through the engine as QUEUED (recover.py), never as RUNNING.
    claimed = RolloutStep.objects.filter(pk=step_id, status=StepStatus.QUEUED).update(
        status=StepStatus.RUNNING, attempt=F("attempt") + 1,
        started_at=Coalesce("started_at", Value(timezone.now(), output_field=DateTimeField())))
    if not claimed:
        return  # running or done already: a duplicate delivery
    step = RolloutStep.objects.select_related("rollout__cluster", "node").get(pk=step_id)
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


def pull(step, session) -> str:
    if step.fence_pid_before is None and step.rollout.cluster.fence_reloads_on_change:
        # fence's pid before the config changes: a 3.0.1+ reload must show a
        # new one. (3.0: the restart step reads it just before its restart.)
        step.fence_pid_before = Supervisor(session).process_info("fence").pid
    rollout = step.rollout
    if rollout.target is not None and rollout.target.local:
        return _stream(step, session, rollout.target)
    by_digest = "@" in rollout.target_pull
    # By digest the pull comes first: it is idempotent (an engine holding the
    # digest fetches the manifest and no layer), so the usual case, an engine
    # without it, spends no docker process on a look beforehand (the bench's
    # profile: docker processes were half of a step's time). The look comes
    # only when the pull fails: an engine already holding the digest under
    # the tag (distributed before) still goes on while the registry is down.
    if not by_digest and node_engine.holds(session, step.image, rollout.target_pull):
        return f"{step.image} already present"
    result = session.run(["docker", "pull", "--", rollout.target_pull], timeout=settings.DOCKER_PULL_TIMEOUT)
    if result.exit_code != 0:
        if by_digest and node_engine.holds(session, step.image, rollout.target_pull):
            return (f"{step.image} already present (docker pull failed: "
                    f"{ssh.excerpt(result.stderr or result.stdout)})")
        raise StepFailed(f"docker pull {rollout.target_pull} failed: {ssh.excerpt(result.stderr or result.stdout)}")
    if rollout.target_pull != step.image:
        # Pulled by digest: fence and kato name the image by its tag. No read
        # back after: a pull by digest that exits 0 holds exactly that content,
        # and the tag names what was pulled; the restart's verification reads
        # the engine again (node_engine.verified_holds). One docker process less per node
        # (the bench's profile: docker commands were half of a step's time).
        session.run(["docker", "tag", "--", rollout.target_pull, step.image], check=True)
    return f"pulled {rollout.target_pull}: {ssh.excerpt(result.stdout)}"


def _stream(step, session, version) -> str:
    """No registry (the seed's small-cluster path): `docker save` on the build
    engine piped into `docker load` on the node, checked by image id."""
    if node_engine.image_id(session, step.image) == version.image_id:
        return f"{step.image} already present"
    try:
        with engine.open_engine(version.cluster) as api:
            result = session.run(["docker", "load"], stdin=api.get_image(version.engine_reference),
                                 timeout=settings.DOCKER_PULL_TIMEOUT)
    except engine.EngineUnavailable as error:
        raise StepFailed(f"the build engine cannot send {version.engine_reference}: {error}") from None
    if result.exit_code != 0:
        raise StepFailed(f"docker load failed: {ssh.excerpt(result.stderr or result.stdout)}")
    if node_engine.image_id(session, step.image) != version.image_id:
        raise StepFailed(f"after docker load, {step.image} on the node is not image {version.image_id}")
    return f"streamed {step.image} from the build engine: {ssh.excerpt(result.stdout)}"


def smoke(step, session) -> str:
    return smoke_test.run(step, session)


def set_config(step, session) -> str:
    kato = Kato(session)
    cluster = step.rollout.cluster
    current = kato.desired_image(cluster.image_setting)
    if step.phase == Phase.CONFIG and not step.rollout.previous_image and current != step.image:
        Rollout.objects.filter(pk=step.rollout_id).update(previous_image=current)
    if current == step.image:
        # A retry whose lost attempt set it: the rows it would have written.
        config_facts.record(step)
        return f"the config already names {step.image}"
    changed_at = timezone.now()
    kato.set_desired_image(step.image, cluster.image_setting)
    # Drift asks what the config named when each fence started (a config set back included).
    config_history.record(cluster, step.image, changed_at)
    config_facts.record(step)  # the nodes this rollout does not restart: their rows name the new image too
    return f"{cluster.image_setting}: {current} -> {step.image} (read back)"


def _image_before(step) -> str:
    """What the node was configured to run before this step: the config's
    previous image (kato cannot say which image a fence runs)."""
    rollout = step.rollout
    return rollout.target_image if step.phase == Phase.REVERT else rollout.previous_image


def restart(step, session) -> str:
    """3.0: restart fence, then verify it (fence_check.py). The audit row is
    written before the command is sent and completed after (audit.py)."""
    kato, supervisor = Kato(session), Supervisor(session)
    before = fence_check.settled(supervisor)
    if step.fence_pid_before is None:
        step.fence_pid_before = before.pid
    done = _already_done(step, session, before)
    if done is not None:
        return done
    step.fence_pid_before = before.pid
    # Saved now, not when the step ends: a retry after a lost worker compares with it.
    RolloutStep.objects.filter(pk=step.pk).update(fence_pid_before=before.pid)
    row = audit.write_ahead(step, image_before=_image_before(step))
    try:
        try:
            result = kato.process_restart("fence", timeout=settings.SSH_COMMAND_TIMEOUT)
        except ssh.CommandTimeout as error:
            audit.complete(row, outcome=Outcome.TIMED_OUT, output=str(error))
            raise StepFailed(str(error)) from None
        except KatoError as error:
            # A retry's restart can collide with the one its lost attempt sent,
            # still running on the node (kato then says "abnormal termination"):
            # if a fence started since this row and runs, that restart is verified.
            if step.attempt > 1:
                collided = _after_collision(step, session, kato, supervisor, row, before, error)
                if collided is not None:
                    return collided
            result = error.result
            # kato's word alone does not say whether fence was touched (garbage,
            # nothing, exit 0 after failing): the node does. The same fence still
            # running is no restart, and the audit must not count one.
            now = fence_check.settled(supervisor)
            untouched = now.running and now.pid == before.pid
            audit.complete(row, outcome=Outcome.NOT_RESTARTED if untouched else Outcome.FAILED,
                           exit_code=result.exit_code if result else None,
                           output=f"{error}" + (f"; fence still runs as pid {now.pid}" if untouched else ""))
            raise StepFailed(str(error)) from None
        return _verify(step, session, since=row.started_at, exit_code=result.exit_code, output=result.stdout,
                       audit_row=row)
    except ssh.SSHError:
        raise  # the connection is gone: the row stays open ("outcome unknown") until the node is looked at
    except Exception as error:
        if row.is_open:  # an error in verification, the database, a bug: the restart was sent
            _complete_quietly(row, Outcome.UNVERIFIED, f"{type(error).__name__}: {error}")
        raise


def _already_done(step, session, fence) -> str | None:
    """A restart this step already caused, before its worker or connection
    was lost: its open row (written ahead, fence restarted since), or on a
    retry a fence started since the step began whose row the lost attempt
    completed. Verified now, with no second row and no second restart; None
    when this step has not restarted fence yet. Open rows of other steps
    on the node are completed from what it shows on the way."""
    mine = _look_at_open_rows(step, fence)
    if mine is not None:
        return _verify(step, session, since=mine.started_at, exit_code=None, audit_row=mine,
                       note="restart observed after its worker or connection was lost")
    if (step.attempt > 1 and fence_check.started_since(fence, step.started_at, step.fence_pid_before)
            and audit.already_recorded(step)):
        return _verify(step, session, since=step.started_at, exit_code=None, audit_row=False)
    return None


def _after_collision(step, session, kato, supervisor, row, before, error):
    """The retry's restart met the one its lost attempt sent, which reached
    the node late (kato: "abnormal termination"). A fence started since this
    row is that restart, verified; a fence the two left stopped is started
    once more. None: kato's error stands."""
    now = fence_check.settled(supervisor)
    said = f"kato said: {ssh.excerpt(str(error))}; a restart sent by the lost attempt reached the node meanwhile"
    if fence_check.started_since(now, row.started_at, before.pid):
        return _verify(step, session, since=row.started_at, exit_code=None, audit_row=row, note=said)
    if now.running:
        return None
    try:
        result = kato.process_restart("fence", timeout=settings.SSH_COMMAND_TIMEOUT)
    except KatoError:
        return None
    return _verify(step, session, since=row.started_at, exit_code=result.exit_code, output=result.stdout,
                   audit_row=row, note=f"{said}; fence was left {now.state} and was restarted once more")


def _look_at_open_rows(step, fence):
    """Open rows on this node (a lost worker, a dropped connection) are
    completed with what the node shows before another restart blurs it.
    Returns this step's own open row when fence was restarted since it was
    written, for _verify to complete."""
    for row in audit.open_rows(step.node):
        ours = row.correlation_id == step.rollout_id and row.image_after == step.image
        if ours and fence_check.started_since(fence, row.started_at, step.fence_pid_before):
            return row
        try:
            outcome = audit.resolve(row, fence, step.fence_pid_before if ours else None,
                                    how=f"looked at by {step.phase} step {step.pk} (attempt {step.attempt})")
        except AppendOnlyError:
            continue  # its own attempt completed it meanwhile
        if ours and outcome == Outcome.FAILED:  # the lost restart happened and failed: not sent again
            raise StepFailed(row.output_excerpt)
    return None


def _complete_quietly(row, outcome: str, why: str) -> None:
    """Completing must not hide the error that got here; if it fails (the
    database is locked) the row stays open and the next look completes it."""
    try:
        audit.complete(row, outcome=outcome, output=f"the restart command was sent, then: {why}")
    except Exception:  # noqa: BLE001 - the original error is re-raised by the caller
        logger.exception("could not complete fence restart row %s", row.pk)


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
    done = _already_done(step, session, fence_check.settled(supervisor))
    if done is not None:  # the restart below, sent by a lost attempt of this step
        return done
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
    return (observe if step.rollout.cluster.fence_reloads_on_change else restart)(step, session)


def _verify(step, session, *, since, exit_code, output: str = "", note: str = "", audit_row=True) -> str:
    """fence_check.py's definition of verified, written to the audit row either way."""
    supervisor, kato = Supervisor(session), Kato(session)
    rollout = step.rollout
    cluster, _ = rollout.cluster, rollout.target  # loaded here: the threads below use no database
    try:
        fence, started = fence_check.wait_for_new_fence(supervisor, since=since, pid_before=step.fence_pid_before,
                                                        timeout=fence_check.FENCE_START_TIMEOUT)
        if not started:
            raise NotVerified(f"no fence started since {since:%H:%M:%S} within {fence_check.FENCE_START_TIMEOUT} s "
                              f"(fence is {fence_check.describe(fence)})")
        seen = timezone.now()
        RolloutStep.objects.filter(pk=step.pk).update(fence_seen_at=seen)
        # The health wait, the engine and (on the first batch) kato's ready
        # run while this thread reads the config (config_read.py: one read
        # serves the steps of a batch, and it uses the database), each remote
        # look on its own channel of the node's one connection: the step waits
        # for the slowest, not for their sum. A fence that does not stay up is
        # reported first, then the checks in this order.
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="verify") as pool:
            stays_up = pool.submit(fence_check.watch, supervisor, fence, rollout.health_wait)
            holds = pool.submit(node_engine.verified_holds, step, session)
            ready = pool.submit(fence_check.ready_note, kato) if _asks_ready(step) else None
            try:
                named, read_error = config_read.named_after(kato, cluster, seen, _others_to_see(step, seen)), None
            except Exception as error:  # noqa: BLE001 - raised below, after fence staying up is known
                named, read_error = None, error
        stays_up.result()
        if read_error is not None:
            raise read_error
        fence_check.config_names(named.value, step.image)
        holds = holds.result()
        ready = ready.result() if ready else fence_check.READY_PAST_FIRST_BATCH
    except NotVerified as error:
        return _bad(step, since, exit_code, str(error), audit_row)
    summary = (f"verified: config names {step.image} ({named.describe()}); {holds}; fence pid {step.fence_pid_before or '?'} -> "
               f"{fence.pid}, started {fence.started:%H:%M:%S} (after {since:%H:%M:%S}), RUNNING for "
               f"{step.rollout.health_wait} s; {ready}" + (f"; {note}" if note else ""))
    _write_audit(step, audit_row, since, Outcome.SUCCEEDED, exit_code, f"{output}\n{summary}".strip())
    verified_facts.record(step, fence)
    return summary


def _others_to_see(step, seen):
    """Whether to wait for a config read another step will send (config_read.py).
    In the window after the first batch (engine.py) no slot frees until its
    step ends, so waiting for every step still running would move the
    window in lock-step: a read there serves the steps that saw their fence
    within config_read.SHARE_FOR of each other. Either way it waits only
    while another step of this phase is running and has not seen its new
    fence (that one will read after this one saw its own): with no such step
    (one worker, the last steps) it reads at once. Elsewhere (the first
    batch, 3.0.1+ reloads, a rollback) it waits for as long as one runs."""
    running = RolloutStep.objects.filter(rollout_id=step.rollout_id, phase=step.phase, status=StepStatus.RUNNING,
                                         fence_seen_at__isnull=True).exclude(pk=step.pk)
    if step.phase == Phase.RESTART and step.batch > 0:
        return lambda: timezone.now() - seen < config_read.SHARE_FOR and running.exists()
    return running.exists


def _asks_ready(step) -> bool:
    """`kato process ready fence` is a second signal, asked where the new image
    and config first run (the canaries, or the first batch without them):
    past them, supervisord's new pid staying RUNNING is the signal, and each
    kato run is a process on the node (bench/README.md)."""
    return step.batch == 0


def _audit_start(step, since):
    """When the restart began: the kato restart (3.0), or this step's start for
    a reload caused by the config change (so a retry finds the row it wrote)."""
    return max(since, step.started_at) if step.started_at else since


def _bad(step, since, exit_code, why: str, audit_row: bool):
    _write_audit(step, audit_row, since, Outcome.FAILED, exit_code, why)
    raise StepFailed(why)


def _write_audit(step, audit_row, since, outcome: str, exit_code, output: str) -> None:
    """audit_row: the row written ahead of this restart (completed now), True
    for a restart only observed (a row written now), False for none."""
    if isinstance(audit_row, FenceRestart):
        try:
            audit.complete(audit_row, outcome=outcome, exit_code=exit_code, output=output)
        except AppendOnlyError:
            # Completed meanwhile by the attempt that sent it (a work horse that
            # outlived its worker): its outcome stands, no second row.
            logger.warning("fence restart row %s was completed by another attempt", audit_row.pk)
    elif audit_row:
        audit.record(step, started_at=_audit_start(step, since), image_before=_image_before(step), outcome=outcome,
                     exit_code=exit_code, output=output)


EXECUTORS = {
    Phase.PULL: pull, Phase.SMOKE: smoke, Phase.CONFIG: set_config, Phase.REVERT_CONFIG: set_config,
    Phase.RESTART: restart, Phase.OBSERVE: observe, Phase.REVERT: revert,
}
