"""manage.py image new|build|push|promote: create an image version, queue
its build or push, or promote it to another cluster as the admin does
(images/forms.py's validation, images/admin/actions.py's refusals and
queueing, images/promotion/rules.request), with the admin's
permission checks for the --user named user. Exit status: 0 done, 1 refused
or (with --wait) failed, 3 still running when --timeout ran out."""
from django.core.management.base import BaseCommand, CommandError

from images import drafts
from images.admin.actions import queue_versions
from images.cli import follow
from images.cli.access import acting_user
from images.cli.output import Output
from images.models import ImageVersion
from images.promotion import rules as promotion_rules
from nodes.models import Cluster
from stackato_dash import queueing

PERMISSIONS = {"new": "images.add_imageversion", "build": "images.build_imageversion", "push": "images.push_imageversion",
               # As the admin's "Promote to cluster…": the Promotion model's own add.
               "promote": promotion_rules.REQUEST_PERMISSION}


class Command(BaseCommand):
    help = "Create image versions, queue their build or push (README: The command line)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        new = sub.add_parser("new", help="a draft version: FROM, RUN lines, CMD")
        new.add_argument("--cluster", required=True, help="the cluster's name")
        new.add_argument("--repository", required=True, help="e.g. exampleco/newimg")
        new.add_argument("--tag", required=True, help="e.g. 1.0.1 (built once, never rebuilt)")
        new.add_argument("--from", dest="from_reference", default="", help="the image to build FROM")
        new.add_argument("--parent", default="", help="or: the id of a built version to build FROM")
        new.add_argument("--run", action="append", default=[], help="a RUN line (repeat, in order)")
        new.add_argument("--cmd", default="", help='CMD as a JSON list (default ["start.sh"])')
        new.add_argument("--notes", default="", help="release notes")
        parsers = [new]
        for kind in ("build", "push", "promote"):
            queue = sub.add_parser(kind, help="copy a version by digest to another cluster's registry"
                                   if kind == "promote" else f"queue the {kind} of a version")
            queue.add_argument("version", help="the version's id")
            if kind == "promote":
                queue.add_argument("--cluster", required=True, help="the target cluster's name")
            queue.add_argument("--wait", action="store_true", help="print its log until it ends; exit 1 if it failed")
            queue.add_argument("--timeout", type=float, default=3600, help="seconds to wait")
            queue.add_argument("--interval", type=float, default=2, help="seconds between two looks")
            parsers.append(queue)
        for each in parsers:
            each.add_argument("--user", default="", help="act as this console user (required)")
            each.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options):
        output = Output(self.stdout, as_json=options["json"])
        user = acting_user(options["user"], PERMISSIONS[options["action"]])
        if options["action"] == "new":
            version = create(user, options)
            output.result(follow.describe_version(version), f"Created {version} (id {version.pk}), a draft:\n"
                                                            f"{version.dockerfile}")
            return
        version = ImageVersion.objects.select_related("cluster").filter(pk=_int_id(options["version"])).first()
        if version is None:
            raise CommandError(f"No image version with id {options['version']}.")
        if options["action"] == "promote":
            promote(user, version, options, output)
            return
        try:
            queued, refused = queue_versions([version], options["action"])
        except queueing.NoWorker as error:
            raise CommandError(str(error)) from None
        if refused:
            raise CommandError(refused[0])
        output.line(f"{options['action'].capitalize()} queued for {', '.join(queued)}.")
        if options["wait"]:
            version = follow.wait_for_version(version.pk, output, timeout=options["timeout"],
                                              interval=options["interval"])
        else:
            version.refresh_from_db()
        document = follow.describe_version(version)
        output.result(document, f"{version}: {version.status}" + (f" ({version.status_reason})"
                                                                  if version.status_reason else ""))
        if options["wait"] and not document["ok"]:
            raise CommandError(f"{version} {version.status}: {version.status_reason or 'see its log'}.")


def promote(user, version, options, output) -> None:
    cluster = Cluster.objects.filter(name=options["cluster"]).first()
    if cluster is None:
        raise CommandError(f"No cluster named {options['cluster']!r}.")
    try:
        promotion = promotion_rules.request(version, cluster, user)
    except promotion_rules.PromotionRefused as error:
        raise CommandError(str(error)) from None
    output.line(f"Promotion of {version} to {cluster} queued (id {promotion.pk}).")
    if options["wait"]:
        promotion = follow.wait_for_promotion(promotion.pk, output, timeout=options["timeout"],
                                              interval=options["interval"])
    document = follow.describe_promotion(promotion)
    output.result(document, f"{promotion}" + (f": {promotion.status_reason}" if promotion.status_reason else ""))
    if options["wait"] and not document["ok"]:
        raise CommandError(f"{promotion}: {(promotion.status_reason or 'see its log').rstrip('.')}.")


def create(user, options) -> ImageVersion:
    """Through the admin's form (images/drafts.py): the same checks (FROM or
    a built parent, a tag free in the console and in the registry, valid names)."""
    cluster = Cluster.objects.filter(name=options["cluster"]).first()
    if cluster is None:
        raise CommandError(f"No cluster named {options['cluster']!r}.")
    try:
        return drafts.create_draft(user, cluster=cluster, repository=options["repository"], tag=options["tag"],
                                   from_reference=options["from_reference"], parent=options["parent"],
                                   run=options["run"], cmd=options["cmd"], notes=options["notes"])
    except drafts.DraftRefused as error:
        raise CommandError(str(error)) from None


def _int_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an image version id (a number).") from None
