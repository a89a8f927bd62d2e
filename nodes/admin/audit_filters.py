"""Sidebar filters of the fence restart audit that stay cheap with hundreds
of thousands of rows and many nodes: no filter lists every node."""
from django.contrib import admin
from django.db import connection

from images.models import Rollout

RECENT_ROLLOUTS = 20
USERNAMES_LISTED = 100

# Each name is the smallest one after the previous, found in the username
# index (a "loose index scan"): one index lookup per distinct name, where
# SELECT DISTINCT would read an entry for every one of the million rows.
_DISTINCT_USERNAMES = """
WITH RECURSIVE names(name) AS (
    SELECT MIN(requested_by_username) FROM nodes_fencerestart
    UNION ALL
    SELECT (SELECT MIN(requested_by_username) FROM nodes_fencerestart WHERE requested_by_username > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name FROM names WHERE name IS NOT NULL LIMIT %s"""


class NodeAddressFilter(admin.ListFilter):
    """A text box instead of a list of every node; the node page links here."""
    title = "node address"
    parameter_name = "node_address"
    template = "admin/nodes/fencerestart/address_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.value = params.pop(self.parameter_name, [""])[-1].strip()
        if self.value:
            self.used_parameters[self.parameter_name] = self.value
        # Other filters' parameters, carried through the text box's GET form.
        self.other_parameters = [(key, value) for key, values in request.GET.lists() if key not in
                                 (self.parameter_name, "p") for value in values]

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def choices(self, changelist):
        return []

    def queryset(self, request, queryset):
        return queryset.filter(node_address=self.value) if self.value else queryset


class UsernameFilter(admin.ListFilter):
    """Who requested the restart, by the copied name (deleted users included).
    The names are read only when the sidebar is drawn, not for an export."""
    title = "requested by username"
    parameter_name = "requested_by_username"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.value = params.pop(self.parameter_name, [None])[-1]
        if self.value is not None:
            self.used_parameters[self.parameter_name] = self.value

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        return queryset if self.value is None else queryset.filter(requested_by_username=self.value)

    def names(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(_DISTINCT_USERNAMES, [USERNAMES_LISTED])
            names = [row[0] for row in cursor.fetchall()]
        return names if self.value is None or self.value in names else [*names, self.value]

    def choices(self, changelist):
        yield {"selected": self.value is None, "display": "All",
               "query_string": changelist.get_query_string(remove=[self.parameter_name])}
        for name in self.names():
            yield {"selected": self.value == name, "display": name,
                   "query_string": changelist.get_query_string({self.parameter_name: name})}


class RolloutFilter(admin.SimpleListFilter):
    """The recent rollouts by name; any older one by ?correlation_id=<uuid>."""
    title = "rollout"
    parameter_name = "correlation_id"

    def lookups(self, request, model_admin):
        recent = Rollout.objects.select_related("cluster").order_by("-created_at")[:RECENT_ROLLOUTS]
        choices = [(str(r.pk), f"{r.created_at:%Y-%m-%d %H:%M} {r.kind} {r.target_image} on {r.cluster}")
                   for r in recent]
        if self.value() and self.value() not in dict(choices):
            choices.append((self.value(), f"rollout {self.value()}"))  # an older one, or a job without a rollout
        return choices

    def has_output(self):
        # Django drops a filter without choices and then ignores its parameter.
        return True

    def queryset(self, request, queryset):
        return queryset.filter(correlation_id=self.value()) if self.value() else queryset
