"""Check the audit's hash chains (fence restarts, rollout events): in the
database (and record the answers for the audit page's badge), or a fence
restart export file, offline."""
from django.core.management.base import BaseCommand, CommandError

from nodes import audit_hash


class Command(BaseCommand):
    help = ("Verify the audit's hash chain from its first row; name the first row that breaks it. "
            "Exit status 1 if it is broken.")

    def add_arguments(self, parser):
        parser.add_argument("--file", help="an audit export (.csv or .json) to check instead of the database")
        parser.add_argument("--partial", action="store_true",
                            help="with --file: a filtered export, gaps in the chain numbers are expected")

    def handle(self, *args, **options):
        if options["file"]:
            try:
                walk, open_rows = audit_hash.check_file(options["file"], options["partial"])
            except (OSError, ValueError, KeyError) as error:
                raise CommandError(f"cannot read {options['file']}: {error}") from None
            self.stdout.write(audit_hash.report(walk, open_rows))
            broken = walk.first_break is not None
        else:
            from nodes import audit_verify
            broken = False
            for state, checked in audit_verify.full_all():  # each chain, named
                if state.broken:
                    self.stdout.write(f"{state.chain.label}: {checked} chained rows read. BROKEN at row "
                                      f"{state.broken_row_id} (chain #{state.broken_seq}): {state.problem}")
                else:
                    self.stdout.write(f"{state.chain.label}: chain holds: {checked} rows, last chain "
                                      f"#{state.verified_seq}, hash {state.verified_hash}")
                broken = broken or state.broken
        if broken:
            raise SystemExit(1)
