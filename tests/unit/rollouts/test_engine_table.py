"""The engine's decisions, one row per branch: the step rows are put in a
state directly in the database, advance() runs, and the row says what the
rollout became and which steps its decision queues (advance() returns them;
it queues nothing itself). No sandbox, no worker; one test follows the
decision into a real Redis through jobs.advance().

Steps are written one letter per node (nodes 0, 1, 2 in address order):
p pending, q queued, r running, s succeeded, f failed, e errored, k skipped,
. no step for that node."""
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStatus, RolloutStep
from images.rollouts import engine, jobs
from nodes.models import Cluster, FenceRestart, Node

pytestmark = pytest.mark.django_db

TARGET, PREVIOUS = "reg:5000/app:2", "reg:5000/app:1"
LETTERS = {"p": "pending", "q": "queued", "r": "running", "s": "succeeded", "f": "failed", "e": "errored",
           "k": "skipped"}
DEAS = ["10.0.0.21", "10.0.0.22", "10.0.0.23"]
CORE = "10.0.0.11"


@dataclass
class Row:
    name: str
    steps: dict  # phase -> letters (per DEA; one letter for config / revert_config on the Core)
    expect_status: str
    expect_queued: set = field(default_factory=set)  # {(phase, address)}
    reason: str = ""  # a part of the status reason (or of the last decision while it goes on)
    behaviour: str = "3.0"
    batches: str = "011"  # per DEA: 0 the canaries
    canaries: int = 1
    max_in_flight: str = "2"
    failure_threshold: int = 0
    auto_rollback: bool = True
    cancel: str = ""  # "", "stop" (stop here) or "rollback" (stop and roll back)
    expect_steps: dict = field(default_factory=dict)  # phase -> letters after advance()
    previous_image: str = PREVIOUS
    paused: bool = False
    manual_gate: bool = False
    gate_decision: str = ""  # "", "continue" or "rollback": what was pressed at the manual gate
    status: str = ""  # the rollout's status when not drawn from its phases (awaiting_gate, distributing)
    distribute_only: bool = False
    left_out: str = ""  # the DEAs the plan left out, as start() records them


def build(row: Row) -> Rollout:
    cluster = Cluster.objects.create(name="prod", core_address=CORE, kato_behaviour=row.behaviour)
    core = Node.objects.create(cluster=cluster, address=CORE, roles=["primary"])
    deas = [Node.objects.create(cluster=cluster, address=a, roles=["dea"]) for a in DEAS]
    phases = set(row.steps)
    status = row.status or (RolloutStatus.ROLLING_BACK if phases & {Phase.REVERT, Phase.REVERT_CONFIG}
                            else RolloutStatus.ACTIVATING if phases - {Phase.PULL} else RolloutStatus.DISTRIBUTING)
    rollout = Rollout.objects.create(
        cluster=cluster, target_image=TARGET, target_pull=TARGET, previous_image=row.previous_image,
        requested_by_username="ops", reason="fix", canaries=row.canaries, max_in_flight=row.max_in_flight,
        failure_threshold=row.failure_threshold, auto_rollback=row.auto_rollback, status=status,
        cancel_requested=bool(row.cancel), cancel_rolls_back=row.cancel == "rollback", paused=row.paused,
        manual_gate=row.manual_gate, gate_decision=row.gate_decision, distribute_only=row.distribute_only,
        left_out=row.left_out)
    for phase, letters in row.steps.items():
        nodes = [core] if phase in (Phase.CONFIG, Phase.REVERT_CONFIG) else deas
        image = PREVIOUS if phase in (Phase.REVERT, Phase.REVERT_CONFIG) else TARGET
        for index, (node, letter) in enumerate(zip(nodes, letters)):
            if letter == ".":
                continue
            step = RolloutStep.objects.create(rollout=rollout, node=node, phase=phase, batch=int(row.batches[index]),
                                              image=image, status=LETTERS[letter], attempt=0 if letter in "pk" else 1)
            if phase in engine.WORK_PHASES and step.attempt:  # a restart step that ran wrote its audit row ahead
                FenceRestart.objects.create(node=node, cluster=cluster, node_address=node.address, image_after=image,
                                            correlation_id=rollout.id, started_at=timezone.now(), reason="fix")
    return rollout


def letters(rollout, phase) -> str:
    nodes = [CORE] if phase in (Phase.CONFIG, Phase.REVERT_CONFIG) else DEAS
    status = {s.node.address: s.status for s in rollout.steps.filter(phase=phase).select_related("node")}
    back = {v: k for k, v in LETTERS.items()}
    return "".join(back[status[a]] if a in status else "." for a in nodes).rstrip(".")


RESTART_PHASES = {Phase.PULL: "sss", Phase.SMOKE: "s", Phase.CONFIG: "s"}
RELOAD_PHASES = {Phase.PULL: "sss", Phase.SMOKE: "s", Phase.CONFIG: "s"}

ROWS = [
    # Distribution
    Row("pulls start, at most max in flight", {Phase.PULL: "ppp"}, RolloutStatus.DISTRIBUTING,
        {(Phase.PULL, DEAS[0]), (Phase.PULL, DEAS[1])}),
    Row("a failed pull stops it, config untouched", {Phase.PULL: "sfs"}, RolloutStatus.FAILED,
        reason="the pull failed on 10.0.0.22"),
    Row("cancel in the pull waits for the running pull", {Phase.PULL: "srp"}, RolloutStatus.DISTRIBUTING,
        cancel="stop", expect_steps={Phase.PULL: "srk"}),
    Row("cancel in the pull", {Phase.PULL: "ssp"}, RolloutStatus.CANCELLED, cancel="rollback",
        reason="cancelled during distribution: the cluster config was not changed", expect_steps={Phase.PULL: "ssk"}),
    # The smoke test overlaps the distribution: it starts once its node holds the image
    Row("the smoke rows exist from the start, the smoke node's pull first", {Phase.PULL: "ppp"},
        RolloutStatus.DISTRIBUTING, {(Phase.PULL, DEAS[0])}, max_in_flight="1", expect_steps={Phase.SMOKE: "p"}),
    Row("3.0.1: the one smoke DEA's pull first", {Phase.PULL: "ppp"}, RolloutStatus.DISTRIBUTING,
        {(Phase.PULL, DEAS[0])}, behaviour="3.0.1", max_in_flight="1", expect_steps={Phase.SMOKE: "p"}),
    Row("the smoke test starts while the others pull, before a pending pull", {Phase.PULL: "srp"},
        RolloutStatus.DISTRIBUTING, {(Phase.SMOKE, DEAS[0])},
        reason="smoke test on 10.0.0.21 while the others pull (2 pull(s) not finished)",
        expect_steps={Phase.SMOKE: "q", Phase.PULL: "srp"}),
    Row("each canary's smoke test starts once its own pull is done", {Phase.PULL: "rsp"}, RolloutStatus.DISTRIBUTING,
        {(Phase.SMOKE, DEAS[1])}, batches="001", canaries=2, expect_steps={Phase.SMOKE: "pq", Phase.PULL: "rsp"}),
    Row("3.0.1: the smoke test starts while the others pull", {Phase.PULL: "spp"}, RolloutStatus.DISTRIBUTING,
        {(Phase.SMOKE, DEAS[0]), (Phase.PULL, DEAS[1]), (Phase.PULL, DEAS[2])}, behaviour="3.0.1", max_in_flight="3",
        reason="smoke test on 10.0.0.21 while the others pull"),
    Row("a lost smoke test (sent back to pending by recover.py) is queued again", {Phase.PULL: "ssr", Phase.SMOKE: "p"},
        RolloutStatus.DISTRIBUTING, {(Phase.SMOKE, DEAS[0])}, status=RolloutStatus.DISTRIBUTING,
        expect_steps={Phase.SMOKE: "q"}),
    Row("a smoke test in flight counts against max in flight", {Phase.PULL: "spp", Phase.SMOKE: "r"},
        RolloutStatus.DISTRIBUTING, {(Phase.PULL, DEAS[1])}, status=RolloutStatus.DISTRIBUTING,
        expect_steps={Phase.PULL: "sqp"}),
    Row("the smoke test passed, the config waits for the pulls", {Phase.PULL: "srp", Phase.SMOKE: "s"},
        RolloutStatus.DISTRIBUTING, {(Phase.PULL, DEAS[2])}, status=RolloutStatus.DISTRIBUTING,
        expect_steps={Phase.CONFIG: "", Phase.RESTART: ""}),
    Row("every pull done, the config waits for the smoke test", {Phase.PULL: "sss", Phase.SMOKE: "r"},
        RolloutStatus.ACTIVATING, status=RolloutStatus.DISTRIBUTING,
        expect_steps={Phase.SMOKE: "r", Phase.CONFIG: "p", Phase.RESTART: "ppp"}),
    Row("every pull and smoke test done: the config", {Phase.PULL: "sss", Phase.SMOKE: "s"}, RolloutStatus.ACTIVATING,
        {(Phase.CONFIG, CORE)}, status=RolloutStatus.DISTRIBUTING, expect_steps={Phase.RESTART: "ppp"}),
    Row("a failed smoke test skips the pending pulls, the running one finishes", {Phase.PULL: "srp", Phase.SMOKE: "f"},
        RolloutStatus.DISTRIBUTING, status=RolloutStatus.DISTRIBUTING, expect_steps={Phase.PULL: "srk"}),
    Row("a failed smoke test ends it once no pull is in flight", {Phase.PULL: "ssk", Phase.SMOKE: "f"},
        RolloutStatus.FAILED, status=RolloutStatus.DISTRIBUTING,
        reason="the smoke test failed on 10.0.0.21 (): the cluster config was not changed and no fence was restarted",
        expect_steps={Phase.CONFIG: "", Phase.RESTART: ""}),
    Row("a failed smoke test of one canary waits for the other's", {Phase.PULL: "sss", Phase.SMOKE: "fr"},
        RolloutStatus.DISTRIBUTING, batches="001", canaries=2, status=RolloutStatus.DISTRIBUTING,
        expect_steps={Phase.SMOKE: "fr", Phase.CONFIG: ""}),
    Row("a failed pull skips a smoke test not started", {Phase.PULL: "fsr"}, RolloutStatus.DISTRIBUTING,
        batches="001", canaries=2, expect_steps={Phase.SMOKE: "kk", Phase.PULL: "fsr"}),
    Row("a failed pull waits for the smoke test in flight", {Phase.PULL: "sfk", Phase.SMOKE: "r"},
        RolloutStatus.DISTRIBUTING, status=RolloutStatus.DISTRIBUTING, expect_steps={Phase.SMOKE: "r"}),
    Row("a failed pull, then the smoke test in flight finished", {Phase.PULL: "sfk", Phase.SMOKE: "s"},
        RolloutStatus.FAILED, status=RolloutStatus.DISTRIBUTING,
        reason="the pull failed on 10.0.0.22: the cluster config was not changed and no fence was restarted"),
    Row("cancel in the pull waits for the smoke test in flight", {Phase.PULL: "ssp", Phase.SMOKE: "r"},
        RolloutStatus.DISTRIBUTING, status=RolloutStatus.DISTRIBUTING, cancel="stop",
        expect_steps={Phase.PULL: "ssk", Phase.SMOKE: "r"}),
    Row("cancel in the pull with the smoke test done", {Phase.PULL: "ssk", Phase.SMOKE: "s"}, RolloutStatus.CANCELLED,
        status=RolloutStatus.DISTRIBUTING, cancel="stop",
        reason="cancelled during distribution: the cluster config was not changed", expect_steps={Phase.CONFIG: ""}),
    Row("distribute only: no smoke test", {Phase.PULL: "spp"}, RolloutStatus.DISTRIBUTING,
        {(Phase.PULL, DEAS[1]), (Phase.PULL, DEAS[2])}, max_in_flight="3", distribute_only=True,
        expect_steps={Phase.SMOKE: ""}),
    Row("distribute only: every node holds it", {Phase.PULL: "sss"}, RolloutStatus.SUCCEEDED, distribute_only=True,
        reason="not activated (distribute only)", expect_steps={Phase.SMOKE: "", Phase.CONFIG: ""}),
    Row("paused: no smoke test starts during the pulls", {Phase.PULL: "srp"}, RolloutStatus.DISTRIBUTING, paused=True,
        expect_steps={Phase.SMOKE: "p", Phase.PULL: "srp"}),
    # Smoke test and config set (3.0); a smoke test still left once every pull is done
    Row("smoke tests run before the config", {**RESTART_PHASES, Phase.SMOKE: "p", Phase.CONFIG: "p"},
        RolloutStatus.ACTIVATING, {(Phase.SMOKE, DEAS[0])}),
    Row("a smoke failure stops before the config", {**RESTART_PHASES, Phase.SMOKE: "f", Phase.CONFIG: "p",
                                                    Phase.RESTART: "ppp"},
        RolloutStatus.FAILED, reason="the cluster config was not changed", expect_steps={Phase.CONFIG: "k"}),
    Row("cancel in the smoke test", {**RESTART_PHASES, Phase.SMOKE: "p", Phase.CONFIG: "p", Phase.RESTART: "ppp"},
        RolloutStatus.CANCELLED, cancel="stop", reason="cancelled before the cluster config was changed",
        expect_steps={Phase.SMOKE: "k", Phase.CONFIG: "k", Phase.RESTART: "kkk"}),
    Row("cancel with the config pending: nothing changed", {**RESTART_PHASES, Phase.CONFIG: "p", Phase.RESTART: "ppp"},
        RolloutStatus.CANCELLED, cancel="stop", reason="cancelled before the cluster config was changed"),
    Row("cancel with the config running waits for it", {**RESTART_PHASES, Phase.CONFIG: "r", Phase.RESTART: "ppp"},
        RolloutStatus.ACTIVATING, cancel="stop", expect_steps={Phase.CONFIG: "r", Phase.RESTART: "ppp"}),
    # Found 2: the config was set while cancel was requested; "stop here" says where every node is.
    Row("stop here after the config changed (3.0)", {**RESTART_PHASES, Phase.RESTART: "ppp"},
        RolloutStatus.CANCELLED, cancel="stop",
        reason=f"the cluster config names {TARGET}; fence restarted onto it on no node; "
               f"still running {PREVIOUS} until their fence restarts: 10.0.0.21, 10.0.0.22, 10.0.0.23",
        expect_steps={Phase.RESTART: "kkk"}),
    Row("stop and roll back after the config changed (3.0)", {**RESTART_PHASES, Phase.RESTART: "ppp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, cancel="rollback",
        expect_steps={Phase.RESTART: "kkk", Phase.REVERT_CONFIG: "q", Phase.REVERT: ""}),
    Row("a config set that failed is rolled back", {**RESTART_PHASES, Phase.CONFIG: "f", Phase.RESTART: "ppp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, expect_steps={Phase.REVERT_CONFIG: "q"}),
    # Restarts (3.0): canaries, batches, threshold
    Row("the canary first", {**RESTART_PHASES, Phase.RESTART: "ppp"}, RolloutStatus.ACTIVATING,
        {(Phase.RESTART, DEAS[0])}),
    Row("the next batch after the canary", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.ACTIVATING,
        {(Phase.RESTART, DEAS[1]), (Phase.RESTART, DEAS[2])}),
    # After the first batch one window: a node starts when any step before it ends (was: when its whole batch had).
    Row("the window: a later node starts as soon as a slot frees", {**RESTART_PHASES, Phase.RESTART: "srp"},
        RolloutStatus.ACTIVATING, {(Phase.RESTART, DEAS[2])}, batches="012"),
    Row("the window: no more than max in flight at once", {**RESTART_PHASES, Phase.RESTART: "srp"},
        RolloutStatus.ACTIVATING, batches="012", max_in_flight="1"),
    Row("without canaries the first batch still ends before the window starts", {**RESTART_PHASES,
        Phase.RESTART: "srp"}, RolloutStatus.ACTIVATING, batches="001", canaries=0, max_in_flight="3"),
    Row("every node switched", {**RESTART_PHASES, Phase.RESTART: "sss"}, RolloutStatus.SUCCEEDED,
        reason=f"3 node(s) run {TARGET}"),
    # A DEA the plan left out is named to the end: the config names the image for it too.
    Row("every node switched, one DEA left out", {**RESTART_PHASES, Phase.RESTART: "sss"}, RolloutStatus.SUCCEEDED,
        left_out="10.0.0.24 (disabled)",
        reason=f"3 node(s) run {TARGET}; left out: 10.0.0.24 (disabled): still on the image before; the config "
               "names the new one for them too, so their fence starts on it at its next restart"),
    Row("3.0.1: every node verified, one DEA left out", {**RELOAD_PHASES, Phase.OBSERVE: "sss"},
        RolloutStatus.SUCCEEDED, behaviour="3.0.1", left_out="10.0.0.24 (in maintenance)",
        reason="left out: 10.0.0.24 (in maintenance): their fence reloads on the config as every DEA's does"),
    Row("distribute only, one DEA left out", {Phase.PULL: "sss"}, RolloutStatus.SUCCEEDED, distribute_only=True,
        left_out="10.0.0.24 (host key not trusted)",
        reason="not activated (distribute only); left out, not pulled: 10.0.0.24 (host key not trusted)"),
    Row("stop here after the config changed names the left-out DEA", {**RESTART_PHASES, Phase.RESTART: "sss"},
        RolloutStatus.CANCELLED, cancel="stop", left_out="10.0.0.24 (disabled)",
        reason="fence restarted onto it on 10.0.0.21, 10.0.0.22, 10.0.0.23; left out: 10.0.0.24 (disabled)"),
    Row("a failed canary rolls back the node it restarted", {**RESTART_PHASES, Phase.RESTART: "fpp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)},
        expect_steps={Phase.RESTART: "fkk", Phase.REVERT: "p"}),
    Row("a failed canary waits for the other canary", {**RESTART_PHASES, Phase.RESTART: "frp"}, RolloutStatus.ACTIVATING,
        batches="001", canaries=2, expect_steps={Phase.RESTART: "frk"}),
    Row("a failed canary without auto rollback", {**RESTART_PHASES, Phase.RESTART: "fpp"}, RolloutStatus.FAILED,
        auto_rollback=False, reason="the canary failed (10.0.0.21); not rolled back"),
    Row("no canaries: a failure in the first batch is a failure, within the threshold",
        {**RESTART_PHASES, Phase.RESTART: "fsp"}, RolloutStatus.ACTIVATING, {(Phase.RESTART, DEAS[2])},
        batches="001", canaries=0, failure_threshold=1),
    Row("within the threshold it goes on and ends succeeded", {**RESTART_PHASES, Phase.RESTART: "ssf"},
        RolloutStatus.SUCCEEDED, failure_threshold=1, reason="1 failed within the threshold (10.0.0.23)"),
    Row("past the threshold it rolls back", {**RESTART_PHASES, Phase.RESTART: "sfp"}, RolloutStatus.ROLLING_BACK,
        {(Phase.REVERT_CONFIG, CORE)}, expect_steps={Phase.RESTART: "sfk", Phase.REVERT: "pp"}),
    # Cancel during the restarts
    Row("stop here during restarts waits for the running one", {**RESTART_PHASES, Phase.RESTART: "srp"},
        RolloutStatus.ACTIVATING, cancel="stop", batches="011", expect_steps={Phase.RESTART: "srk"}),
    Row("stop here during restarts says where each node is", {**RESTART_PHASES, Phase.RESTART: "ssk"},
        RolloutStatus.CANCELLED, cancel="stop",
        reason=f"the cluster config names {TARGET}; fence restarted onto it on 10.0.0.21, 10.0.0.22; "
               f"still running {PREVIOUS} until their fence restarts: 10.0.0.23"),
    Row("stop here with a failure within the threshold is a cancel", {**RESTART_PHASES, Phase.RESTART: "sfk"},
        RolloutStatus.CANCELLED, cancel="stop", failure_threshold=1,
        reason=f"fence restarted onto it on 10.0.0.21; did not verify on 10.0.0.22; still running {PREVIOUS}"),
    Row("stop and roll back during restarts", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.ROLLING_BACK,
        {(Phase.REVERT_CONFIG, CORE)}, cancel="rollback", expect_steps={Phase.RESTART: "skk", Phase.REVERT: "p"}),
    Row("stop and roll back with no previous image stops", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.CANCELLED, cancel="rollback", previous_image="",
        reason="the image it replaced is unknown, so it cannot roll back"),
    # Found 1: cancel after a failed canary, the other canary still restarting.
    Row("cancel after a failed canary waits for the other canary", {**RESTART_PHASES, Phase.RESTART: "frp"},
        RolloutStatus.ACTIVATING, cancel="stop", batches="001", canaries=2, expect_steps={Phase.RESTART: "frk"}),
    Row("cancel after a failed canary rolls back", {**RESTART_PHASES, Phase.RESTART: "fsk"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, cancel="stop", batches="001", canaries=2,
        expect_steps={Phase.REVERT_CONFIG: "q", Phase.REVERT: "pp"}),
    # Rolling back: the config first, then the nodes; cancel cannot stop it
    Row("the revert restarts follow the config", {**RESTART_PHASES, Phase.RESTART: "fsk", Phase.REVERT_CONFIG: "s",
                                                  Phase.REVERT: "pp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT, DEAS[0]), (Phase.REVERT, DEAS[1])}, batches="001", canaries=2),
    Row("cancel during the rollback skips no config revert", {**RESTART_PHASES, Phase.RESTART: "fsk",
                                                              Phase.REVERT_CONFIG: "p", Phase.REVERT: "pp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, cancel="stop", batches="001", canaries=2,
        expect_steps={Phase.REVERT_CONFIG: "q", Phase.REVERT: "pp"}),
    Row("cancel during the revert restarts", {**RESTART_PHASES, Phase.RESTART: "fsk", Phase.REVERT_CONFIG: "s",
                                              Phase.REVERT: "sp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT, DEAS[1])}, cancel="rollback", batches="001", canaries=2),
    Row("rolled back", {**RESTART_PHASES, Phase.RESTART: "fsk", Phase.REVERT_CONFIG: "s", Phase.REVERT: "ss"},
        RolloutStatus.ROLLED_BACK, batches="001", canaries=2, reason=f"config and 2 node(s) back on {PREVIOUS}"),
    Row("a revert restart that fails is named", {**RESTART_PHASES, Phase.RESTART: "fsk", Phase.REVERT_CONFIG: "s",
                                                 Phase.REVERT: "sf"},
        RolloutStatus.ROLLED_BACK, batches="001", canaries=2, reason="fence did not come back on 10.0.0.22"),
    Row("a config revert that fails ends errored", {**RESTART_PHASES, Phase.RESTART: "fsk", Phase.REVERT_CONFIG: "e",
                                                    Phase.REVERT: "pp"},
        RolloutStatus.ERRORED, batches="001", canaries=2, reason="could not set the cluster config back",
        expect_steps={Phase.REVERT: "kk"}),
    # 3.0.1+: one smoke test, every node reloads at once, no canary through the config
    Row("3.0.1: every node is observed at once", {**RELOAD_PHASES, Phase.OBSERVE: "ppp"}, RolloutStatus.ACTIVATING,
        {(Phase.OBSERVE, a) for a in DEAS}, behaviour="3.0.1", max_in_flight="3"),
    Row("3.0.1: a failure in batch 0 is no canary failure", {**RELOAD_PHASES, Phase.OBSERVE: "fss"},
        RolloutStatus.SUCCEEDED, behaviour="3.0.1", failure_threshold=1, reason="1 failed within the threshold"),
    Row("3.0.1: past the threshold every node reverts", {**RELOAD_PHASES, Phase.OBSERVE: "fss"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, behaviour="3.0.1",
        expect_steps={Phase.REVERT: "ppp"}),
    Row("3.0.1: stop here after the config changed still observes every reload", {**RELOAD_PHASES,
                                                                                  Phase.OBSERVE: "ppp"},
        RolloutStatus.ACTIVATING, {(Phase.OBSERVE, a) for a in DEAS}, behaviour="3.0.1", max_in_flight="3",
        cancel="stop", reason="every DEA reloads on it"),
    Row("3.0.1: stop here ends with the picture of every node", {**RELOAD_PHASES, Phase.OBSERVE: "sss"},
        RolloutStatus.CANCELLED, behaviour="3.0.1", cancel="stop",
        reason=f"the cluster config names {TARGET}; every DEA reloads on it (3.0.1+): verified on 10.0.0.21, "
               "10.0.0.22, 10.0.0.23"),
    Row("3.0.1: stop and roll back reverts every node", {**RELOAD_PHASES, Phase.OBSERVE: "spp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, behaviour="3.0.1", cancel="rollback",
        expect_steps={Phase.OBSERVE: "skk", Phase.REVERT: "ppp"}),
    Row("3.0.1: revert reloads after the config", {**RELOAD_PHASES, Phase.OBSERVE: "fss", Phase.REVERT_CONFIG: "s",
                                                   Phase.REVERT: "ppp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT, a) for a in DEAS}, behaviour="3.0.1", max_in_flight="3"),
    Row("3.4 behaves as 3.0.1", {**RELOAD_PHASES, Phase.OBSERVE: "sss"}, RolloutStatus.SUCCEEDED, behaviour="3.4",
        reason=f"3 node(s) run {TARGET}"),
    # Paused: the steps in flight finish, no further one starts; cancel and a rollback still act
    Row("paused: no pull starts", {Phase.PULL: "ppp"}, RolloutStatus.DISTRIBUTING, paused=True,
        expect_steps={Phase.PULL: "ppp"}),
    Row("paused: the pull in flight finishes, no next one", {Phase.PULL: "srp"}, RolloutStatus.DISTRIBUTING,
        paused=True, expect_steps={Phase.PULL: "srp"}),
    Row("paused: every pull done, the smoke test waits", {Phase.PULL: "sss"}, RolloutStatus.ACTIVATING, paused=True,
        expect_steps={Phase.SMOKE: "p", Phase.CONFIG: "p", Phase.RESTART: "ppp"}),
    Row("paused: the config set waits", {**RESTART_PHASES, Phase.CONFIG: "p", Phase.RESTART: "ppp"},
        RolloutStatus.ACTIVATING, paused=True, expect_steps={Phase.CONFIG: "p"}),
    Row("paused: the next batch waits", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.ACTIVATING,
        paused=True, expect_steps={Phase.RESTART: "spp"}),
    Row("paused: the restart in flight finishes, no next one", {**RESTART_PHASES, Phase.RESTART: "srp"},
        RolloutStatus.ACTIVATING, paused=True, batches="012", expect_steps={Phase.RESTART: "srp"}),
    Row("paused: the last step in flight ends it", {**RESTART_PHASES, Phase.RESTART: "sss"}, RolloutStatus.SUCCEEDED,
        paused=True, reason=f"3 node(s) run {TARGET}"),
    Row("paused: stop here still ends it", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.CANCELLED,
        paused=True, cancel="stop", reason="fence restarted onto it on 10.0.0.21; still running"),
    Row("paused: stop and roll back is not held", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.ROLLING_BACK,
        {(Phase.REVERT_CONFIG, CORE)}, paused=True, cancel="rollback", expect_steps={Phase.RESTART: "skk"}),
    Row("paused: a failure past the threshold still rolls back", {**RESTART_PHASES, Phase.RESTART: "sfp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, paused=True, expect_steps={Phase.REVERT: "pp"}),
    Row("paused: the revert restarts are not held", {**RESTART_PHASES, Phase.RESTART: "fsk", Phase.REVERT_CONFIG: "s",
                                                     Phase.REVERT: "pp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT, DEAS[0]), (Phase.REVERT, DEAS[1])}, batches="001", canaries=2,
        paused=True),
    # 3.0.1+: every DEA reloads on the config already, so "stop here" still
    # verifies each one; a pause must not hold that, or cancel never ends it.
    Row("paused: 3.0.1 stop here still verifies every reload and ends", {**RELOAD_PHASES, Phase.OBSERVE: "spp"},
        RolloutStatus.ACTIVATING, {(Phase.OBSERVE, DEAS[1]), (Phase.OBSERVE, DEAS[2])}, behaviour="3.0.1",
        max_in_flight="3", paused=True, cancel="stop"),
    Row("paused: the gate is still reached (and recorded) while paused", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.AWAITING_GATE, manual_gate=True, paused=True, reason="waiting at the manual gate"),
    # Manual gate after the canaries (3.0)
    Row("gate: the canary runs first", {**RESTART_PHASES, Phase.RESTART: "ppp"}, RolloutStatus.ACTIVATING,
        {(Phase.RESTART, DEAS[0])}, manual_gate=True),
    Row("gate: the canary succeeded, it waits", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.AWAITING_GATE,
        manual_gate=True, reason="the canaries succeeded (10.0.0.21): waiting at the manual gate",
        expect_steps={Phase.RESTART: "spp"}),
    Row("gate: it waits for every canary", {**RESTART_PHASES, Phase.RESTART: "srp"}, RolloutStatus.ACTIVATING,
        batches="001", canaries=2, manual_gate=True, expect_steps={Phase.RESTART: "srp"}),
    Row("gate: a failed canary rolls back without waiting", {**RESTART_PHASES, Phase.RESTART: "fpp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, manual_gate=True, expect_steps={Phase.RESTART: "fkk"}),
    Row("gate: waiting, nothing pressed, nothing starts", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.AWAITING_GATE, status=RolloutStatus.AWAITING_GATE, manual_gate=True),
    Row("gate: Continue starts the next batch", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.ACTIVATING,
        {(Phase.RESTART, DEAS[1]), (Phase.RESTART, DEAS[2])}, status=RolloutStatus.AWAITING_GATE, manual_gate=True,
        gate_decision="continue", reason="Continue pressed at the manual gate"),
    Row("gate: once passed, the batches go on", {**RESTART_PHASES, Phase.RESTART: "ssp"}, RolloutStatus.ACTIVATING,
        {(Phase.RESTART, DEAS[2])}, batches="012", manual_gate=True, gate_decision="continue"),
    Row("gate: Continue while paused starts nothing", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.ACTIVATING, status=RolloutStatus.AWAITING_GATE, manual_gate=True, gate_decision="continue",
        paused=True),
    Row("gate: Roll back takes the rollback path", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.ROLLING_BACK, {(Phase.REVERT_CONFIG, CORE)}, status=RolloutStatus.AWAITING_GATE,
        manual_gate=True, gate_decision="rollback", reason=f"Roll back pressed at the manual gate; rolling back to {PREVIOUS}",
        expect_steps={Phase.RESTART: "skk", Phase.REVERT: "p"}),
    Row("gate: Roll back with the image it replaced unknown stops", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.CANCELLED, status=RolloutStatus.AWAITING_GATE, manual_gate=True, gate_decision="rollback",
        previous_image="", reason="the image it replaced is unknown"),
    Row("gate: stop here at the gate says where each node is", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.CANCELLED, status=RolloutStatus.AWAITING_GATE, manual_gate=True, cancel="stop",
        reason="fence restarted onto it on 10.0.0.21; still running"),
    Row("gate: stop and roll back at the gate", {**RESTART_PHASES, Phase.RESTART: "spp"}, RolloutStatus.ROLLING_BACK,
        {(Phase.REVERT_CONFIG, CORE)}, status=RolloutStatus.AWAITING_GATE, manual_gate=True, cancel="rollback"),
    Row("gate: without canaries there is nothing to wait after", {**RESTART_PHASES, Phase.RESTART: "spp"},
        RolloutStatus.ACTIVATING, {(Phase.RESTART, DEAS[1]), (Phase.RESTART, DEAS[2])}, canaries=0, manual_gate=True),
    Row("gate: only canaries, nothing to wait before", {**RESTART_PHASES, Phase.RESTART: "sss"},
        RolloutStatus.SUCCEEDED, batches="000", canaries=3, manual_gate=True),
]


def queued_by(decision: engine.Decision) -> list:
    """(phase, address) of each step the decision queues; each is marked
    queued under the job id it will be queued with."""
    steps = [RolloutStep.objects.select_related("node").get(pk=pk) for pk in decision.queue]
    assert all(step.status == "queued" and step.job_id for step in steps)
    return [(step.phase, step.node.address) for step in steps]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_advance(row):
    rollout = build(row)
    decision = engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == row.expect_status, rollout.decisions
    assert decision.rollout_id == rollout.pk
    queued = queued_by(decision)
    assert set(queued) == row.expect_queued
    assert len(queued) == len(set(queued))
    said = rollout.status_reason if rollout.is_finished else rollout.decisions.strip().splitlines()[-1:]
    assert row.reason in (said if isinstance(said, str) else "".join(said)), rollout.decisions
    for phase, expected in row.expect_steps.items():
        assert letters(rollout, phase) == expected, phase


def test_a_finished_rollout_decides_nothing():
    rollout = build(Row("", {Phase.PULL: "sss"}, ""))
    Rollout.objects.filter(pk=rollout.pk).update(status=RolloutStatus.SUCCEEDED)
    assert engine.advance(rollout.pk).queue == []


def _stepper(rollout):
    """Ends one step as its job does (the row updated, then advance()) and
    returns (phase, address) of what that decision queued."""
    def finish(phase, address, status):
        RolloutStep.objects.filter(rollout=rollout, phase=phase, node__address=address).update(status=status)
        decision = engine.advance(rollout.pk)
        rollout.refresh_from_db()
        return queued_by(decision)
    return finish


def test_cancel_after_a_failed_canary_ends_rolled_back_with_the_config_reverted():
    """Found 1, step by step: each finished step calls advance() as its job does."""
    row = Row("", {**RESTART_PHASES, Phase.RESTART: "frp"}, "", batches="001", canaries=2, cancel="stop")
    rollout = build(row)
    finish = _stepper(rollout)
    assert finish(Phase.RESTART, DEAS[1], "succeeded") == [(Phase.REVERT_CONFIG, CORE)]
    assert rollout.status == RolloutStatus.ROLLING_BACK
    assert sorted(finish(Phase.REVERT_CONFIG, CORE, "succeeded")) == [(Phase.REVERT, DEAS[0]), (Phase.REVERT, DEAS[1])]
    assert finish(Phase.REVERT, DEAS[0], "succeeded") == []
    assert finish(Phase.REVERT, DEAS[1], "succeeded") == []
    assert rollout.status == RolloutStatus.ROLLED_BACK, rollout.decisions
    assert rollout.status_reason == f"config and 2 node(s) back on {PREVIOUS}"
    assert "the canary failed (10.0.0.21); rolling back" in rollout.decisions


def test_the_smoke_test_runs_while_the_others_pull_and_the_config_waits_for_both():
    rollout = build(Row("", {Phase.PULL: "ppp"}, ""))  # 3.0, one canary, max in flight 2
    finish = _stepper(rollout)
    assert queued_by(engine.advance(rollout.pk)) == [(Phase.PULL, DEAS[0]), (Phase.PULL, DEAS[1])]
    assert engine.advance(rollout.pk).queue == []  # decided again (a second job): nothing twice, no second row
    assert rollout.steps.filter(phase=Phase.SMOKE).count() == 1
    # The canary holds the image: its smoke test takes the free slot before the last pull.
    assert finish(Phase.PULL, DEAS[0], "succeeded") == [(Phase.SMOKE, DEAS[0])]
    assert "smoke test on 10.0.0.21 while the others pull (2 pull(s) not finished)" in rollout.decisions
    assert finish(Phase.SMOKE, DEAS[0], "succeeded") == [(Phase.PULL, DEAS[2])]
    assert finish(Phase.PULL, DEAS[1], "succeeded") == []
    assert not rollout.steps.filter(phase=Phase.CONFIG).exists()
    assert finish(Phase.PULL, DEAS[2], "succeeded") == [(Phase.CONFIG, CORE)]
    assert rollout.status == RolloutStatus.ACTIVATING
    assert rollout.steps.filter(phase=Phase.SMOKE).count() == 1
    assert letters(rollout, Phase.RESTART) == "ppp"


def test_a_failed_smoke_test_skips_the_pulls_not_started_and_ends_after_those_in_flight():
    rollout = build(Row("", {Phase.PULL: "ppp"}, ""))
    finish = _stepper(rollout)
    engine.advance(rollout.pk)
    assert finish(Phase.PULL, DEAS[0], "succeeded") == [(Phase.SMOKE, DEAS[0])]
    RolloutStep.objects.filter(rollout=rollout, phase=Phase.SMOKE).update(output="exited with code 3 within 3 s")
    assert finish(Phase.SMOKE, DEAS[0], "failed") == []
    assert rollout.status == RolloutStatus.DISTRIBUTING  # the pull in flight finishes first
    assert letters(rollout, Phase.PULL) == "sqk"
    assert finish(Phase.PULL, DEAS[1], "succeeded") == []
    assert rollout.status == RolloutStatus.FAILED
    assert rollout.status_reason == ("the smoke test failed on 10.0.0.21 (exited with code 3 within 3 s): the cluster "
                                     "config was not changed and no fence was restarted")
    assert not rollout.steps.filter(phase__in=[Phase.CONFIG, *engine.WORK_PHASES]).exists()


def test_the_decision_reaches_the_queue_only_after_commit(clean_queue, django_capture_on_commit_callbacks):
    """jobs.advance(): the engine decides, the queueing module puts each step
    it decided on into Redis (a real one) under the step's job id, once the
    rows are committed."""
    rollout = build(Row("", {Phase.PULL: "ppp"}, ""))
    with django_capture_on_commit_callbacks(execute=True):  # runs them as a commit would, at the end
        decision = jobs.advance(rollout.pk)
        assert len(decision.queue) == 2 and clean_queue.job_ids == []  # nothing in Redis before the commit
    expected = {(step.job_id, f"rollout {rollout.pk}: pull on {step.node.address}")
                for step in RolloutStep.objects.filter(pk__in=decision.queue).select_related("node")}
    in_redis = {(job.id, job.description) for job in clean_queue.jobs}
    assert in_redis == expected
    assert {job.func_name for job in clean_queue.jobs} == {"images.rollouts.jobs.run_rollout_step"}


def test_the_decision_to_stop_says_what_each_failed_node_showed():
    """The rollout page says which check failed on which node (the step's
    output), not only the address: an operator reading a rollback must not
    have to open each step to learn why."""
    rollout = build(Row("", {**RESTART_PHASES, Phase.RESTART: "sfs"}, ""))
    RolloutStep.objects.filter(rollout=rollout, phase=Phase.RESTART, node__address=DEAS[1]).update(
        output="docker inspect reg:5000/app:2 failed: Cannot connect to the Docker daemon")
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLING_BACK, rollout.decisions
    assert ("restart on 10.0.0.22 failed: docker inspect reg:5000/app:2 failed: Cannot connect to the Docker daemon"
            in rollout.decisions)
    assert "1 node(s) failed, more than the threshold of 0 (10.0.0.22); rolling back" in rollout.decisions


def test_a_failed_config_set_says_nothing_of_the_left_out_deas_config():
    """The config step failed: the config may not name the target, so the
    summary makes no claim about what a left-out DEA's fence will start on."""
    rollout = build(Row("", {**RESTART_PHASES, Phase.CONFIG: "f", Phase.RESTART: "ppp"}, "", auto_rollback=False,
                        left_out="10.0.0.24 (disabled)"))
    engine.advance(rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.FAILED, rollout.decisions
    assert rollout.status_reason.endswith("; not rolled back") and "left out" not in rollout.status_reason
