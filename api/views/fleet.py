"""Reading the fleet: clusters, nodes with their drift, and the fence
restart audit (read-only, filtered by cluster, node and time)."""
import ipaddress
import uuid
from datetime import datetime, timezone

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from api import filters
from api.permissions import RolePermissions
from api.serializers import ClusterSerializer, FenceRestartSerializer, NodeSerializer
from nodes.models import Cluster, FenceRestart, Node
from nodes.models.node import Drift
from nodes.models.fence_restart import Outcome


class ClusterViewSet(RolePermissions, viewsets.ReadOnlyModelViewSet):
    permissions = {"list": ("nodes.view_cluster",), "retrieve": ("nodes.view_cluster",)}
    queryset = Cluster.objects.order_by("name")
    serializer_class = ClusterSerializer


CLUSTER = OpenApiParameter("cluster", str, description="Only this cluster (its name).")


@extend_schema_view(list=extend_schema(parameters=[
    CLUSTER, OpenApiParameter("drift", str, enum=Drift.values, description="Only nodes with this drift state.")]))
class NodeViewSet(RolePermissions, mixins.ListModelMixin, viewsets.GenericViewSet):
    permissions = {"list": ("nodes.view_node",)}
    serializer_class = NodeSerializer

    def get_queryset(self):
        nodes = Node.objects.select_related("cluster").order_by("cluster__name", "address")
        if "cluster" in self.request.query_params:
            nodes = nodes.filter(cluster__name=self.request.query_params["cluster"])
        if "drift" in self.request.query_params:
            nodes = nodes.filter(drift=filters.one_of("drift", self.request.query_params["drift"], Drift.values))
        return nodes


def _moment(name: str, text: str) -> datetime:
    try:
        moment = parse_datetime(text)
        if moment is not None:
            # In UTC here: a moment at the calendar's edge that cannot be
            # turned into UTC fails now, not in the database adapter (a 500).
            return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        pass
    raise ValidationError({name: "An ISO 8601 date and time, e.g. 2026-11-29T14:00:00Z."})


@extend_schema_view(list=extend_schema(parameters=[
    CLUSTER, OpenApiParameter("node", str, description="Only this node (its address)."),
    OpenApiParameter("since", datetime, description="Restarts started at or after this time."),
    OpenApiParameter("until", datetime, description="Restarts started before this time."),
    OpenApiParameter("outcome", str, enum=Outcome.values),
    OpenApiParameter("correlation_id", str, description="One rollout's restarts (its id).")]))
class FenceRestartViewSet(RolePermissions, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit history: every fence restart, newest first. Read-only here
    as everywhere: its rows are written by the rollout jobs only."""
    permissions = {"list": ("nodes.view_fencerestart",)}
    serializer_class = FenceRestartSerializer

    def get_queryset(self):
        params = self.request.query_params
        restarts = FenceRestart.objects.order_by("-started_at", "-id")
        # Names and addresses as copied into each row, so a renamed cluster
        # or a renumbered node keeps its history.
        if "cluster" in params:
            restarts = restarts.filter(cluster_name=params["cluster"])
        if "node" in params:
            restarts = restarts.filter(node_address=_address(params["node"]))
        if "since" in params:
            restarts = restarts.filter(started_at__gte=_moment("since", params["since"]))
        if "until" in params:
            restarts = restarts.filter(started_at__lt=_moment("until", params["until"]))
        if "outcome" in params:
            restarts = restarts.filter(outcome=filters.one_of("outcome", params["outcome"], Outcome.values))
        if "correlation_id" in params:
            restarts = restarts.filter(correlation_id=_uuid("correlation_id", params["correlation_id"]))
        return restarts


def _uuid(name: str, text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError({name: "A UUID, as on a rollout's page."}) from None


def _address(text: str) -> str:
    # Checked here: PostgreSQL's inet column would refuse it with a server error.
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValidationError({"node": "A node's IPv4 address."}) from None
