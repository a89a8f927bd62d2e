"""manage.py rollout start|status|cancel|pause|resume|gate|undo|wait: the
admin's rollout actions from a terminal or a pipeline, through
images/rollouts/start.py, cancel.py, pause.py and manual_gate.py with the
admin's permission checks for the --user named user.
Exit status: 0 done (wait: succeeded), 1 refused or ended badly, 3 still
running when --timeout ran out, 4 (wait) awaiting approval, a maintenance
window or a manual gate (unless --keep-waiting)."""
import uuid

from django.core.management.base import BaseCommand, CommandError

from images.cli import follow
from images.cli.access import acting_user
from images.cli.output import Output
from images.models import ImageVersion, Rollout
from images.models.rollout import GateDecision, RolloutStatus
from images.rollouts import cancel as cancelling
from images.rollouts import manual_gate, start
from images.rollouts import pause as pausing
from images.rollouts.forms import RolloutForm

ACTIVATE, DISTRIBUTE, VIEW = "images.activate_rollout", "images.distribute_rollout", "images.view_rollout"


class Command(BaseCommand):
    help = "Start, follow, cancel or undo rollouts (README: The command line)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        begin = sub.add_parser("start", help="roll an image version out to its cluster")
        begin.add_argument("version", help="the image version's id")
        begin.add_argument("--distribute-only", action="store_true", help="pull on every node, do not activate")
        self._strategy(begin)
        status = sub.add_parser("status", help="a rollout's status and its steps")
        status.add_argument("rollout", help="the rollout's id")
        stop = sub.add_parser("cancel", help="stop a rollout before its next step")
        stop.add_argument("rollout")
        stop.add_argument("--roll-back", action="store_true",
                          help="stop and roll back (set the config back, restart the switched nodes)")
        hold = sub.add_parser("pause", help="let the steps in flight finish and start no further one")
        hold.add_argument("rollout")
        go_on = sub.add_parser("resume", help="go on with a paused rollout")
        go_on.add_argument("rollout")
        gate = sub.add_parser("gate", help="at a manual gate: continue with the other DEAs, or roll back")
        gate.add_argument("rollout")
        choice = gate.add_mutually_exclusive_group(required=True)
        choice.add_argument("--continue", dest="gate_choice", action="store_const", const=GateDecision.CONTINUE)
        choice.add_argument("--roll-back", dest="gate_choice", action="store_const", const=GateDecision.ROLL_BACK)
        undo = sub.add_parser("undo", help="roll back to the image a finished rollout replaced")
        undo.add_argument("rollout")
        self._strategy(undo)
        wait = sub.add_parser("wait", help="follow a rollout until it ends; exit 0 only if it succeeded")
        wait.add_argument("rollout")
        for each in (begin, status, stop, undo, wait, hold, go_on, gate):
            each.add_argument("--user", default="", help="act as this console user (required to change anything)")
            each.add_argument("--json", action="store_true", help="print one JSON document")
        for each in (begin, undo, wait):
            each.add_argument("--timeout", type=float, default=3600, help="seconds to wait (with --wait; wait)")
            each.add_argument("--interval", type=float, default=2, help="seconds between two looks")
            each.add_argument("--keep-waiting", action="store_true",
                              help="also wait while it awaits approval, its maintenance window or its manual gate (else exit 4)")

    @staticmethod
    def _strategy(parser):
        parser.add_argument("--reason", default="", help="why: kept with every fence restart in the audit (required)")
        parser.add_argument("--canaries", default="1")
        parser.add_argument("--max-in-flight", default="1", help="a number of nodes, or a percentage like 25%%")
        parser.add_argument("--failure-threshold", default="0")
        parser.add_argument("--health-wait", default="5", help="seconds fence must stay RUNNING on the new image")
        parser.add_argument("--no-auto-rollback", action="store_true")
        parser.add_argument("--manual-gate", action="store_true",
                            help="after the canaries, wait for `rollout gate --continue` or `--roll-back`")
        parser.add_argument("--wait", action="store_true", help="then follow it as `rollout wait` does")

    def handle(self, *args, **options):
        self.output = Output(self.stdout, as_json=options["json"])
        return getattr(self, f"do_{options['action']}")(options)

    def do_start(self, options):
        user = acting_user(options["user"], DISTRIBUTE if options["distribute_only"] else ACTIVATE)
        version = ImageVersion.objects.select_related("cluster").filter(pk=_int_id(options["version"])).first()
        if version is None:
            raise CommandError(f"No image version with id {options['version']}.")
        rollout = _refusable(lambda: start.rollout_version(version, distribute_only=options["distribute_only"],
                                                           user=user, **strategy(options)))
        return self._started(rollout, options)

    def do_undo(self, options):
        user = acting_user(options["user"], ACTIVATE)
        earlier = get_rollout(options["rollout"])
        rollout = _refusable(lambda: start.undo(earlier, user=user, **strategy(options)))
        return self._started(rollout, options)

    def do_cancel(self, options):
        user = acting_user(options["user"], ACTIVATE)
        rollout = get_rollout(options["rollout"])
        try:
            said = cancelling.request(rollout, roll_back=options["roll_back"], user=user)
        except cancelling.CancelRefused as error:
            raise CommandError(str(error)) from None
        rollout.refresh_from_db()
        self.output.result(follow.describe_rollout(rollout), said)

    def do_pause(self, options):
        user = acting_user(options["user"], ACTIVATE)
        self._intervene(options, lambda rollout: pausing.pause(rollout, user=user), pausing.PauseRefused)

    def do_resume(self, options):
        user = acting_user(options["user"], ACTIVATE)
        self._intervene(options, lambda rollout: pausing.resume(rollout, user=user), pausing.PauseRefused)

    def do_gate(self, options):
        user = acting_user(options["user"], ACTIVATE)
        self._intervene(options, lambda rollout: manual_gate.choose(rollout, options["gate_choice"], user=user),
                        manual_gate.GateRefused)

    def _intervene(self, options, act, refused):
        """Pause, resume or a gate decision: recorded with the user, as on the rollout's page."""
        rollout = get_rollout(options["rollout"])
        try:
            said = act(rollout)
        except refused as error:
            raise CommandError(str(error)) from None
        rollout.refresh_from_db()
        self.output.result(follow.describe_rollout(rollout), said)

    def do_status(self, options):
        if options["user"]:
            acting_user(options["user"], VIEW)
        document = follow.describe_rollout(get_rollout(options["rollout"]))
        self.output.result(document, follow.rollout_text(document))

    def do_wait(self, options):
        if options["user"]:
            acting_user(options["user"], VIEW)
        rollout = get_rollout(options["rollout"])
        self._follow(rollout, options)

    def _started(self, rollout, options):
        waiting = follow.waiting_for(rollout)
        self.output.line(f"Requested: {rollout} ({rollout.pk}); {waiting}." if waiting
                         else f"Started: {rollout} ({rollout.pk}).")
        if options["wait"]:
            return self._follow(rollout, options)
        self.output.result(follow.describe_rollout(rollout), str(rollout.pk))

    def _follow(self, rollout, options):
        ended = follow.wait_for_rollout(rollout.pk, self.output, timeout=options["timeout"], interval=options["interval"],
                                        keep_waiting=options["keep_waiting"])
        document = follow.describe_rollout(ended)
        self.output.result(document, follow.rollout_text(document))
        if ended.status != RolloutStatus.SUCCEEDED:
            raise CommandError(f"{ended} ended {ended.get_status_display()}: {ended.status_reason or 'see its page'}.")


def strategy(options) -> dict:
    """The admin's strategy form, so the same values are refused the same way."""
    data = {name: options[name] for name in ("reason", "canaries", "max_in_flight", "failure_threshold", "health_wait")}
    if not options["no_auto_rollback"]:
        data["auto_rollback"] = "on"
    if options["manual_gate"]:
        data["manual_gate"] = "on"
    form = RolloutForm(data)
    if not form.is_valid():
        errors = "; ".join(f"--{field.replace('_', '-')}: {' '.join(messages)}" for field, messages in form.errors.items())
        raise CommandError(f"Nothing was started. {errors}")
    return form.cleaned_data


def get_rollout(rollout_id: str) -> Rollout:
    try:
        key = uuid.UUID(rollout_id)
    except ValueError:
        raise CommandError(f"{rollout_id!r} is not a rollout id (a UUID, as on its page).") from None
    rollout = Rollout.objects.select_related("cluster").filter(pk=key).first()
    if rollout is None:
        raise CommandError(f"No rollout with id {rollout_id}.")
    return rollout


def _int_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an image version id (a number).") from None


def _refusable(starter):
    try:
        return starter()
    except start.RolloutRefused as error:
        raise CommandError(str(error)) from None
