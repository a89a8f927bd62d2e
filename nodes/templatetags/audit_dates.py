"""The audit changelist's date drill-down without a DISTINCT over every row.

Django's date_hierarchy lists years, months or days with SELECT DISTINCT
trunc(started_at), which reads (and on SQLite calls a Python function for)
every matching row: seconds with hundreds of thousands of restarts. Here the
choices are the calendar between the first and the last matching restart,
found with two indexed ORDER BY ... LIMIT 1 (SQLite answers a combined
MIN/MAX by scanning); a month without restarts may appear, which is cheaper
than finding out."""
import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db.models import Max, Min
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.text import capfirst

register = template.Library()


def _span(cl):
    field = cl.date_hierarchy
    times = cl.queryset.values_list(field, flat=True)
    if cl.query and not getattr(cl.paginator, "capped", True):
        # A search with few matches (counted, found through the trigram
        # index): aggregate them. ORDER BY ... LIMIT 1 would walk the time
        # index from one end testing each row's text until a match: the whole
        # history when the matches are at the other end (2 s at a million rows
        # on PostgreSQL). COALESCE(x, x) is x, but no index serves it, so
        # neither database turns MIN/MAX back into that walk.
        span = times.order_by().aggregate(first=Min(Coalesce(field, field)), last=Max(Coalesce(field, field)))
        first, last = span["first"], span["last"]
    else:
        first = times.order_by(field).first()
        last = times.order_by(f"-{field}").first() if first is not None else None
    if first is None:
        return None, None
    return timezone.localtime(first), timezone.localtime(last)


def _months(first, last):
    month = first.date().replace(day=1)
    while month <= last.date():
        yield month
        month = (month + datetime.timedelta(days=32)).replace(day=1)


@register.inclusion_tag("admin/date_hierarchy.html")
def audit_date_hierarchy(cl):
    field = cl.date_hierarchy
    year, month, day = (cl.params.get(f"{field}__{part}") for part in ("year", "month", "day"))
    if year and month and day:
        return date_hierarchy(cl)  # the last level runs no query in Django either
    first, last = _span(cl)
    if first is None:
        return {"show": True, "back": None, "choices": []}

    def link(filters):
        return cl.get_query_string(filters, [f"{field}__"])

    if not year and first.year == last.year:  # as Django: skip a level with one choice
        year = first.year
        month = month or (first.month if first.month == last.month else None)
    if year and month:
        days = [first.date() + datetime.timedelta(days=n) for n in range((last.date() - first.date()).days + 1)]
        return {"show": True, "back": {"link": link({f"{field}__year": year}), "title": str(year)},
                "choices": [{"link": link({f"{field}__year": year, f"{field}__month": month, f"{field}__day": d.day}),
                             "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT"))} for d in days]}
    if year:
        return {"show": True, "back": {"link": link({}), "title": "All dates"},
                "choices": [{"link": link({f"{field}__year": year, f"{field}__month": m.month}),
                             "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT"))}
                            for m in _months(first, last)]}
    return {"show": True, "back": None,
            "choices": [{"link": link({f"{field}__year": str(y)}), "title": str(y)}
                        for y in range(first.year, last.year + 1)]}
