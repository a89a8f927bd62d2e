"""Queue a facts refresh for every node (or one cluster's), as the admin action does."""
from django.core.management.base import BaseCommand, CommandError

from nodes import jobs
from nodes.models import Node
from stackato_dash import queueing


class Command(BaseCommand):
    help = "Queue an RQ job per node that refreshes its facts (needs a running worker)."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", help="only this cluster's nodes")

    def handle(self, *args, **options):
        nodes = Node.objects.all()
        if options["cluster"]:
            nodes = nodes.filter(cluster__name=options["cluster"])
        try:
            queueing.require_worker()
        except queueing.NoWorker as error:
            raise CommandError(str(error)) from None
        for node in nodes:
            queueing.enqueue(jobs.refresh_node_facts, node.pk, description=f"Refresh facts: {node}")
        self.stdout.write(f"{nodes.count()} refresh job(s) queued")
