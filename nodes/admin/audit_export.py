"""The fence restart audit as CSV or JSON, streamed row by row so an export
of the whole history never sits in memory. Each row carries every field its
hash covers and its chain fields, so the file can be verified offline
(nodes/audit_hash.py, manage.py verify_audit --file)."""
import csv
import json

from django.http import StreamingHttpResponse
from django.utils import timezone

FIELDS = ["id", "started_at", "finished_at", "cluster_name", "node_id", "node_address", "requested_by_username",
          "outcome", "exit_code", "image_before", "image_after", "correlation_id", "reason", "output_excerpt",
          "cluster_id", "chain_seq", "prev_hash", "row_hash"]
KINDS = {"csv": "text/csv", "json": "application/json"}
CHUNK = 2000


class _Echo:
    """csv.writer writes into this; each row comes straight back as a string."""
    def write(self, value):
        return value


def _rows(queryset):
    return queryset.values_list(*FIELDS).iterator(chunk_size=CHUNK)


# A spreadsheet opening the CSV runs a cell that starts with one of these as
# a formula (CSV injection); reasons are typed by users and output comes from
# nodes, so such a cell gets a leading quote. JSON is data, not a sheet: as is.
# A cell that starts with a quote gets one more, so the offline check can take
# exactly one off (nodes/audit_hash.py) and hash the text as stored.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    if isinstance(value, str) and value.startswith((*_FORMULA_STARTS, "'")):
        return "'" + value
    return value


def _csv(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(FIELDS)
    for row in _rows(queryset):
        yield writer.writerow([csv_cell(value) for value in row])


def _json(queryset):
    yield "["
    separator = "\n"
    for row in _rows(queryset):
        yield separator + json.dumps(dict(zip(FIELDS, row)), default=str)
        separator = ",\n"
    yield "\n]\n"


def stream(queryset, kind: str) -> StreamingHttpResponse:
    content = _csv(queryset) if kind == "csv" else _json(queryset)
    response = StreamingHttpResponse(content, content_type=KINDS[kind])
    name = f"fence-restarts-{timezone.now():%Y%m%d-%H%M%S}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
