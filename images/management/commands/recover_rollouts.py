"""Run when the workers (re)start: resume rollouts whose worker was lost."""
from django.core.management.base import BaseCommand, CommandError

from images.rollouts import recover


class Command(BaseCommand):
    help = "Queue again the rollout steps lost with a killed worker, and let each unfinished rollout go on."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="even if some workers seem alive")

    def handle(self, *args, **options):
        try:
            lines = recover.recover(force=options["force"])
        except recover.WorkersAlive as error:
            raise CommandError(str(error)) from None
        for line in lines or ["no unfinished rollout"]:
            self.stdout.write(line)
