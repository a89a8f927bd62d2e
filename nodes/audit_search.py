"""Indexed search of the fence restart audit, so the admin's search box does
not read the whole history (issue 11).

The admin searches SEARCHED with icontains: UPPER(col) LIKE UPPER('%term%')
on PostgreSQL, col LIKE '%term%' on SQLite. A B-tree cannot serve a leading
%, so each database gets a trigram index (created by nodes migration 0008):

- PostgreSQL: pg_trgm GIN indexes over exactly Django's expression
  UPPER(col::text): the planner uses them for the admin's own query as is.
- SQLite: an FTS5 table with the trigram tokenizer (SQLite >= 3.34) holding
  the same columns, filled by an AFTER INSERT trigger (audit rows never
  change these columns and are never deleted). narrow() restricts the
  admin's query to its matches; the LIKE stays as a recheck, so a stale entry
  (a test database emptied around the triggers) can never add a row.
"""
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils.text import smart_split, unescape_string_literal

SEARCHED = ["image_before", "image_after", "reason"]
TABLE = "nodes_fencerestart"
FTS = "nodes_fencerestart_search"
TRIGRAM = 3  # FTS5's trigram tokenizer matches terms of 3 characters or more

_columns = ", ".join(SEARCHED)
_new = ", ".join(f"new.{column}" for column in SEARCHED)
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({_columns}, content='{TABLE}', content_rowid='id', tokenize='trigram')",
    f"INSERT INTO {FTS} (rowid, {_columns}) SELECT id, {_columns} FROM {TABLE}",  # noqa: S608  own constants only
    (f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} "  # noqa: S608  own constants only
     f"BEGIN INSERT INTO {FTS} (rowid, {_columns}) VALUES (new.id, {_new}); END"),
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {FTS}_insert", f"DROP TABLE IF EXISTS {FTS}"]


def postgresql_index(column: str) -> str:
    return f"fencerestart_{column}_trgm"


POSTGRESQL_CREATE = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"] + [
    f"CREATE INDEX IF NOT EXISTS {postgresql_index(c)} ON {TABLE} USING gin ((UPPER({c}::text)) gin_trgm_ops)"
    for c in SEARCHED]
# The extension stays: other objects in the database may use it.
POSTGRESQL_DROP = [f"DROP INDEX IF EXISTS {postgresql_index(c)}" for c in SEARCHED]


def terms(search_term: str) -> list[str]:
    """The words of a search as the admin splits them (quotes keep a phrase)."""
    return [unescape_string_literal(bit) if bit.startswith(('"', "'")) and bit[0] == bit[-1] else bit
            for bit in smart_split(search_term)]


def narrow(queryset, search_term: str):
    """On SQLite, restrict to the rows the FTS index finds for each term long
    enough for it; elsewhere (and for shorter terms) the LIKE alone decides."""
    if connection.vendor != "sqlite":
        return queryset
    for term in terms(search_term):
        if len(term) >= TRIGRAM:
            phrase = '"' + term.replace('"', '""') + '"'  # one FTS5 string: the term as a substring
            # The table name is this module's constant; the term is a parameter.
            match = RawSQL(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s", [phrase])  # noqa: S608, S611
            queryset = queryset.filter(id__in=match)
    return queryset
