"""One reconciler pass now (job_runs/reconciler.py), and its periodic chain
started if it is not running (after Redis was emptied by hand, say)."""
from django.core.management.base import BaseCommand

from job_runs import chain, reconciler
from stackato_dash import queueing


class Command(BaseCommand):
    help = ("End or queue again the jobs whose worker or queued message was lost (the workers do this every "
            f"{chain.PERIOD} s by themselves), and make sure they go on doing it.")

    def handle(self, *args, **options):
        queue = queueing.get_queue()
        for line in reconciler.reconcile(queue) or ["nothing lost"]:
            self.stdout.write(line)
        if chain.schedule_next(queue):
            self.stdout.write(f"the periodic reconciler was not scheduled: scheduled, every {chain.PERIOD} s")
