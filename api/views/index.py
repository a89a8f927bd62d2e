"""GET /api/: the index a client (or someone with curl) starts from: each
endpoint's list URL, and where the OpenAPI schema and its documentation
page are. It is the router's own root view with the API's roles: a token of
a console user who may read at least one of those lists (401 without one,
403 as every other refusal), so it tells nobody else what the API has."""
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView

from api.permissions import RolePermissions


class ApiIndex(RolePermissions, APIRootView):
    reads: tuple[str, ...] = ()  # the lists' permissions, any one of which suffices (api/urls.py)

    def required_permissions(self, request) -> tuple[str, ...]:
        # Only GET (and HEAD): another method is 405 (api.permissions.ConsoleRole).
        return self.reads if request.method in ("GET", "HEAD") else ()

    def get(self, request, *args, **kwargs):
        endpoints = super().get(request, *args, **kwargs).data
        return Response({"endpoints": endpoints,
                         "schema": reverse("api-schema", request=request),
                         "docs": reverse("api-docs", request=request)})


def list_permissions(registry) -> tuple[str, ...]:
    """Every permission that lets a user read one of the router's lists."""
    return tuple(sorted({permission for _, viewset, _ in registry
                         for permission in viewset.permissions.get("list", ())}))
