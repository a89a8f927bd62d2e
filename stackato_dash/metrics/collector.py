"""One custom collector that reads every value from the database and Redis
when Prometheus scrapes.

Why not counters and histograms observed where things happen: the work is
done in many processes (the web server's workers and every RQ worker and
work horse, possibly on several machines), and prometheus_client keeps
observed values per process. Exporting them would need its multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, a directory of mmap files per process, shared by
processes on one machine only) and would lose them on every restart. The
rows already hold each rollout's outcome and each step's and restart's start
and end, so any process computing from them answers the same, and the
numbers survive restarts."""
import django_rq
from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from rq import Worker
from rq.job import Job
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from images.models.rollout import IN_FLIGHT, UNFINISHED, Rollout, RolloutStatus, RolloutStep
from job_runs import chain
from job_runs.models import JobRun
from nodes.models import Cluster, FenceRestart
from nodes.models.node import Drift, Node
from notifications.models import Delivery
from stackato_dash.metrics.histograms import duration_histogram

PREFIX = "stackato_dash"


class FleetCollector:
    def collect(self):
        yield from rollout_metrics()
        yield duration_histogram(f"{PREFIX}_rollout_step_duration_seconds",
                                 "Finished rollout steps by phase and status: how long each took.",
                                 RolloutStep.objects.all(), ("phase", "status"))
        yield duration_histogram(f"{PREFIX}_fence_restart_duration_seconds",
                                 "Finished fence restarts (the audit) by cluster and outcome.",
                                 FenceRestart.objects.all(), ("cluster_name", "outcome"))
        yield node_drift()
        yield job_runs()
        yield deliveries()
        yield from queue_metrics()


def rollout_metrics():
    by_status = GaugeMetricFamily(f"{PREFIX}_rollouts", "Rollouts by cluster, kind and status (outcome once finished).",
                                  labels=["cluster", "kind", "status"])
    rows = Rollout.objects.values("cluster__name", "kind", "status").annotate(n=Count("pk")).order_by()
    for row in rows:
        by_status.add_metric([row["cluster__name"], row["kind"], row["status"]], row["n"])
    yield by_status

    # A rollout is stuck when nothing it does has moved for long: the newest
    # start or end of any of its steps (or its own start).
    idle = GaugeMetricFamily(f"{PREFIX}_rollout_unfinished_idle_seconds",
                             "Per unfinished rollout: seconds since it or one of its steps last started or ended.",
                             labels=["cluster", "rollout", "status"])
    now = timezone.now()
    unfinished = (Rollout.objects.filter(status__in=UNFINISHED)
                  .annotate(step_started=Max("steps__started_at"), step_finished=Max("steps__finished_at"),
                            steps_in_flight=Count("steps", filter=Q(steps__status__in=IN_FLIGHT)))
                  .select_related("cluster"))
    for rollout in unfinished:
        moments = [m for m in (rollout.created_at, rollout.started_at, rollout.step_started, rollout.step_finished) if m]
        # A paused rollout waits on a person, not stuck: its own label, for the alert to leave out;
        # but only while nothing of it runs (a step in flight, a cancel or a rollback can hang).
        waits = rollout.paused and not rollout.cancel_requested and not rollout.steps_in_flight
        status = "paused" if waits and rollout.status != RolloutStatus.ROLLING_BACK else rollout.status
        idle.add_metric([rollout.cluster.name, str(rollout.pk), status], (now - max(moments)).total_seconds())
    yield idle


def node_drift() -> GaugeMetricFamily:
    """Every drift state of every cluster, 0 included, so an alert on a state
    has a series to compare before the first node drifts."""
    family = GaugeMetricFamily(f"{PREFIX}_nodes", "Nodes by cluster and drift state (nodes/drift.py), at the last refresh.",
                               labels=["cluster", "drift"])
    counts = {(row["cluster__name"], row["drift"]): row["n"]
              for row in Node.objects.values("cluster__name", "drift").annotate(n=Count("pk")).order_by()}
    for cluster in Cluster.objects.values_list("name", flat=True):
        for drift in Drift.values:
            family.add_metric([cluster, drift], counts.get((cluster, drift), 0))
    return family


def job_runs() -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_job_runs", "Job rows (job_runs) by job and status; the reconciler ends lost ones.",
                               labels=["job", "status"])
    for row in JobRun.objects.values("func_name", "status").annotate(n=Count("pk")).order_by():
        family.add_metric([row["func_name"], row["status"]], row["n"])
    return family


def deliveries() -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_notification_deliveries",
                               "Webhook and mail deliveries of rollout events by channel and status (notifications/).",
                               labels=["channel", "status"])
    for row in Delivery.objects.values("channel", "status").annotate(n=Count("pk")).order_by():
        family.add_metric([row["channel"], row["status"]], row["n"])
    return family


def queue_metrics():
    up = GaugeMetricFamily(f"{PREFIX}_redis_up", "1 when Redis (RQ's broker) answered this scrape.")
    depth = GaugeMetricFamily(f"{PREFIX}_rq_queue_jobs", "Jobs waiting in the RQ queue.", labels=["queue"])
    running = GaugeMetricFamily(f"{PREFIX}_rq_started_jobs", "Jobs a worker is running now.", labels=["queue"])
    workers = GaugeMetricFamily(f"{PREFIX}_rq_workers", "RQ workers registered (alive) on the queue.", labels=["queue"])
    scheduled = GaugeMetricFamily(f"{PREFIX}_reconciler_scheduled",
                                  "1 when the periodic job reconciler has its next run scheduled.")
    last_run = GaugeMetricFamily(f"{PREFIX}_reconciler_last_run_timestamp_seconds",
                                 "When the newest reconciler run still in RQ's finished registry ended.")
    try:
        for name in settings.RQ_QUEUES:
            queue = django_rq.get_queue(name)
            depth.add_metric([name], queue.count)
            running.add_metric([name], StartedJobRegistry(queue=queue).count)
            workers.add_metric([name], len(Worker.all(queue=queue)))
        queue = django_rq.get_queue("default")
        next_run = queue.connection.get(chain.CHAIN_KEY)
        scheduled.add_metric([], int(bool(next_run) and Job.exists(next_run.decode(), connection=queue.connection)))
        ended = reconciler_last_run(queue)
        if ended:
            last_run.add_metric([], ended.timestamp())
    except Exception:  # noqa: BLE001 - Redis down is what redis_up says; the database metrics still go out
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield from (up, depth, running, workers, scheduled, last_run)


def reconciler_last_run(queue):
    """RQ keeps a finished reconciler run a minute (chain.py's result_ttl)."""
    ids = [job_id for job_id in FinishedJobRegistry(queue=queue).get_job_ids() if job_id.startswith("reconcile-")]
    jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job and job.ended_at]
    return max((job.ended_at for job in jobs), default=None)
