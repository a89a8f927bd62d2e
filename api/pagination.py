from rest_framework.pagination import LimitOffsetPagination


class Pages(LimitOffsetPagination):
    """?limit=&offset=; PAGE_SIZE (settings) by default, never more than
    max_limit in one answer (the audit history grows without end)."""
    max_limit = 1000
