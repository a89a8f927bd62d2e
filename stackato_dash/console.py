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
from nodes.models import Cluster, Node
from nodes.models.node import Drift

RECENT = 5


def clusters() -> list[dict]:
    drift = defaultdict(Counter)
    for row in Node.objects.values("cluster_id", "drift").annotate(n=Count("id")):
        drift[row["cluster_id"]][row["drift"]] = row["n"]
    images = defaultdict(Counter)
    for row in Node.objects.exclude(desired_image="").values("cluster_id", "desired_image").annotate(n=Count("id")):
        images[row["cluster_id"]][row["desired_image"]] = row["n"]
    labels = dict(Drift.choices)
    rows = []
    for cluster in Cluster.objects.order_by("name"):
        last = cluster.rollouts.first()
        # The nodes' last refresh is the best witness; before any refresh, the last success.
        active = images[cluster.pk].most_common(1)
        if not active:
            succeeded = cluster.rollouts.filter(status=RolloutStatus.SUCCEEDED).first()
            active = [(succeeded.target_image, 0)] if succeeded else []
        rows.append({"cluster": cluster, "active_image": active[0][0] if active else "", "last_rollout": last,
                     "ready_version": ready_to_roll_out(cluster),
                     "drift": [(labels.get(key, key), key, n) for key, n in sorted(drift[cluster.pk].items())],
                     "nodes": sum(drift[cluster.pk].values())})
    return rows


def ready_to_roll_out(cluster) -> ImageVersion | None:
    """The newest version a rollout can take: pushed, or built when the
    cluster has no registry (the nodes then get it streamed)."""
    ready = Q(status=Status.PUSHED) | Q(status=Status.BUILT, local=True)
    return cluster.image_versions.filter(ready).order_by("-created_at", "-id").first()


def activity() -> dict:
    return {"versions": ImageVersion.objects.select_related("cluster").order_by("-created_at")[:RECENT],
            "rollouts": Rollout.objects.select_related("cluster").order_by("-created_at")[:RECENT]}


def job_health() -> dict:
    """Redis reachable, and the workers alive per queue: with none, queued
    jobs would wait forever, so the page says so."""
    queues = []
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        try:
            queue.connection.ping()
            workers = Worker.all(queue=queue)
            queues.append({"name": name, "workers": [(w.name, w.get_state()) for w in workers],
                           "queued": queue.count})
        except Exception as error:  # noqa: BLE001 - any Redis failure is shown, not raised
            return {"redis": False, "error": str(error), "queues": []}
    return {"redis": True, "queues": queues}
