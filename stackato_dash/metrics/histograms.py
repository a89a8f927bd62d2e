"""Duration histograms counted in SQL from rows that have both a start and
an end, one query per metric: the buckets are conditional counts over the
whole table, so a scrape reads a few numbers, not every row."""
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import HistogramMetricFamily

# Seconds. A pull or a restart takes seconds to minutes; a build step up to BUILD_TIMEOUT.
BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


def duration_histogram(name: str, documentation: str, queryset, labels: tuple[str, ...]) -> HistogramMetricFamily:
    """queryset: rows with started_at and finished_at; labels: its fields
    that become the metric's labels (one histogram per combination)."""
    family = HistogramMetricFamily(name, documentation, labels=labels)
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    counts = {f"le_{index}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
              for index, bound in enumerate(BUCKETS)}
    rows = (queryset.filter(started_at__isnull=False, finished_at__isnull=False)
            .alias(duration=duration).values(*labels)
            .annotate(total=Count("pk"), seconds=Sum("duration"), **counts).order_by(*labels))
    for row in rows:
        buckets = [(str(float(bound)), row[f"le_{index}"]) for index, bound in enumerate(BUCKETS)]
        buckets.append(("+Inf", row["total"]))
        total = row["seconds"] or timedelta(0)
        family.add_metric([str(row[label]) for label in labels], buckets, total.total_seconds())
    return family
