"""Check the fence restart audit's hash chain: in the database (and record
the answer for the audit page's badge), or in an export file, offline."""
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
            state, checked = audit_verify.full()
            if state.broken:
                self.stdout.write(f"{checked} chained rows read. BROKEN at row {state.broken_row_id} "
                                  f"(chain #{state.broken_seq}): {state.problem}")
            else:
                self.stdout.write(f"chain holds: {checked} rows, last chain #{state.verified_seq}, "
                                  f"hash {state.verified_hash}")
            broken = state.broken
        if broken:
            raise SystemExit(1)
