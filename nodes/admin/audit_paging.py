"""Paging the fence restart audit without counting the whole history.

Django's changelist counts every matching row to number its pages: with a
million restarts that COUNT(*) reads a million index entries on every page
view. Here the count stops a few pages beyond the page shown (at least
CAP rows), so it costs the same at any size; past that the page says
"more than N" and the page links still reach ten pages further, as far as an
operator pages by hand (filters and the date drill-down narrow the rest)."""
from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 1_000
PAGES_AHEAD = 10


class CappedCountPaginator(Paginator):
    def __init__(self, object_list, per_page, limit: int = CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit

    @cached_property
    def count(self) -> int:
        # SELECT COUNT(*) FROM (SELECT ... LIMIT limit + 1): reads at most limit + 1 rows.
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def capped(self) -> bool:
        """More rows match than were counted: count is limit + 1, not the total."""
        return self.count > self.limit


def paginator_for(request, queryset, per_page: int) -> CappedCountPaginator:
    try:
        page = max(int(request.GET.get("p", 1)), 1)
    except ValueError:
        page = 1  # the changelist itself answers a bad page number
    return CappedCountPaginator(queryset, per_page, limit=max(CAP, (page + PAGES_AHEAD) * per_page))
