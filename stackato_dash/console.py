"""The fleet at a glance for the admin home page: per cluster what runs and
how the nodes stand, recent builds and rollouts, and whether the job system
can run anything at all."""
from collections import Counter, defaultdict

import django_rq
from django.conf import settings
from django.db.models import Count, Q
from rq import Worker

from images.models import ImageVersion, Status
from images.models.rollout import Rollout, RolloutStatus
from nodes import config_history
from nodes.models import Cluster, Node
from nodes.models.node import Drift
from stackato_dash import queueing

RECENT = 5
# Drift a second rollout of the active image puts right: it restarts every DEA onto it.
OUT_OF_LINE = (Drift.NOT_RESTARTED, Drift.IMAGE_MISSING, Drift.IMAGE_DIFFERS, Drift.FENCE_DOWN)


def clusters() -> list[dict]:
    drift = defaultdict(Counter)
    for row in Node.objects.values("cluster_id", "drift").annotate(n=Count("id")):
        drift[row["cluster_id"]][row["drift"]] = row["n"]
    labels = dict(Drift.choices)
    rows = []
    for cluster in Cluster.objects.order_by("name"):
        last = cluster.rollouts.first()
        # What the config names as the console knows it (a rollout's config step
        # records it at once; the nodes' copies wait for a refresh), else the last success.
        active = config_history.current(cluster)
        if not active:
            succeeded = cluster.rollouts.filter(status=RolloutStatus.SUCCEEDED).first()
            active = succeeded.target_image if succeeded else ""
        out_of_line = any(drift[cluster.pk][key] for key in OUT_OF_LINE)
        ready, again = ready_to_roll_out(cluster, active, out_of_line)
        rows.append({"cluster": cluster, "active_image": active, "last_rollout": last,
                     "ready_version": ready, "roll_out_again": again,
                     "drift": [(labels.get(key, key), key, n) for key, n in sorted(drift[cluster.pk].items())],
                     "nodes": sum(drift[cluster.pk].values())})
    return rows


def ready_to_roll_out(cluster, active: str = "", out_of_line: bool = False) -> tuple[ImageVersion | None, bool]:
    """The newest version a rollout can take (pushed, or built when the
    cluster has no registry: the nodes then get it streamed), and whether it
    would be a second rollout of the image the config already names. That one
    is offered only while nodes are out of line with it (rolling it out again
    restarts them onto it); else the link read as "not rolled out yet"."""
    ready = Q(status=Status.PUSHED) | Q(status=Status.BUILT, local=True)
    newest = cluster.image_versions.filter(ready).order_by("-created_at", "-id").first()
    if newest is None or active != (newest.registry_reference or newest.engine_reference):
        return newest, False
    return (newest, True) if out_of_line else (None, False)


def activity() -> dict:
    return {"versions": ImageVersion.objects.select_related("cluster").order_by("-created_at")[:RECENT],
            "rollouts": Rollout.objects.select_related("cluster").order_by("-created_at")[:RECENT]}


# What a queue without a worker means for the operator, and what to start.
NO_WORKER = {
    queueing.QUEUE: ("builds, pushes and rollouts will be refused until one runs",
                     f"manage.py rqworker-pool {queueing.QUEUE}"),
    queueing.NOTIFICATIONS: ("rollout notifications (webhooks, mail) stay queued until one runs; "
                             "rollouts go on without them", f"manage.py rqworker-pool {queueing.NOTIFICATIONS}"),
}


def job_health() -> dict:
    """Redis reachable, and the workers alive per queue: with none, queued
    jobs would wait forever, so the page says so."""
    queues = []
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        try:
            queue.connection.ping()
            workers = Worker.all(queue=queue)
            meaning, start = NO_WORKER.get(name, ("its jobs stay queued until one runs", f"manage.py rqworker {name}"))
            queues.append({"name": name, "workers": [(w.name, w.get_state()) for w in workers],
                           "queued": queue.count, "no_worker": meaning, "start": start})
        except Exception as error:  # noqa: BLE001 - any Redis failure is shown, not raised
            return {"redis": False, "error": str(error), "queues": []}
    return {"redis": True, "queues": queues}
