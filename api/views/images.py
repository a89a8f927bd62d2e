"""Image versions: list and read them, make a draft, queue its build and its
push, read its build/push log, promote it to another cluster. Through
images/drafts.py, images/admin/actions.queue_versions and
images/promotion/rules.request, as the admin and `manage.py image` do."""
import json

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api import filters, refusal
from api.permissions import RolePermissions
from api.serializers import (ImageVersionSerializer, LogLineSerializer, NewDraftSerializer, PromoteSerializer,
                             PromotionDetailSerializer, RefusalSerializer)
from images import drafts
from images.admin.actions import queue_versions
from images.models import ImageVersion, Promotion, Status
from images.promotion import rules as promotion_rules
from nodes.models import Cluster
from stackato_dash import queueing

VIEW = ("images.view_imageversion",)
LOG_PAGE = 2000  # lines in one answer, as the console's live log polls them
REFUSED = {409: OpenApiResponse(RefusalSerializer, description="Refused: nothing was queued; detail says why.")}


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("cluster", str, description="Only this cluster (its name)."),
                                   OpenApiParameter("status", str, enum=Status.values)]),
    create=extend_schema(operation_id="image_versions_new_draft", request=NewDraftSerializer, responses={
        201: ImageVersionSerializer, 400: OpenApiResponse(RefusalSerializer, description="Nothing was created.")}),
    build=extend_schema(operation_id="image_versions_build", request=None, responses={202: ImageVersionSerializer, **REFUSED}),
    push=extend_schema(operation_id="image_versions_push", request=None, responses={202: ImageVersionSerializer, **REFUSED}),
    promote=extend_schema(operation_id="image_versions_promote", request=PromoteSerializer, responses={
        202: PromotionDetailSerializer, **REFUSED,
        400: OpenApiResponse(RefusalSerializer, description="No such cluster: nothing was queued.")}),
    log=extend_schema(operation_id="image_versions_log", parameters=[OpenApiParameter("after", int, description="Lines after this number.")],
                      responses=LogLineSerializer(many=True)),
)
class ImageVersionViewSet(RolePermissions, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permissions = {"list": VIEW, "retrieve": VIEW, "log": VIEW, "create": ("images.add_imageversion",),
                   "build": ("images.build_imageversion",), "push": ("images.push_imageversion",),
                   # As the admin's "Promote to cluster…" (promotion_views.promote): the Promotion's add.
                   "promote": (promotion_rules.REQUEST_PERMISSION,)}
    serializer_class = ImageVersionSerializer

    def get_queryset(self):
        versions = ImageVersion.objects.select_related("cluster").prefetch_related("run_steps").order_by("-created_at")
        params = self.request.query_params
        if self.action != "list":
            return versions  # the query string of a build or a push is not a filter on its version
        if "cluster" in params:
            versions = versions.filter(cluster__name=params["cluster"])
        if "status" in params:
            versions = versions.filter(status=filters.one_of("status", params["status"], Status.values))
        return versions

    def create(self, request):
        """A draft version: FROM (or a built parent), RUN lines, CMD."""
        given = NewDraftSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        cluster = Cluster.objects.filter(name=data["cluster"]).first()
        if cluster is None:
            return refusal.invalid(f"No cluster named {data['cluster']!r}.")
        try:
            version = drafts.create_draft(
                request.user, cluster=cluster, repository=data["repository"], tag=data["tag"],
                from_reference=data["from_reference"], parent=data["parent"] or "", run=data["run"],
                cmd=json.dumps(data["cmd"]) if data["cmd"] is not None else "", notes=data["notes"])
        except drafts.DraftRefused as error:
            return refusal.invalid(str(error))
        return Response(self.get_serializer(self.get_queryset().get(pk=version.pk)).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def build(self, request, pk=None):
        """Queue its build (once: a tag is never rebuilt)."""
        return self._queue(self.get_object(), "build")

    @action(detail=True, methods=["post"])
    def push(self, request, pk=None):
        """Queue its push to the cluster registry (once)."""
        return self._queue(self.get_object(), "push")

    def _queue(self, version, kind: str):
        try:
            queued, refused = queue_versions([version], kind)
        except queueing.NoWorker as error:
            return refusal.conflict(str(error))
        if refused:
            return refusal.conflict(refused[0])
        version = self.get_queryset().get(pk=version.pk)
        return Response(self.get_serializer(version).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        """Copy it by digest to another cluster's registry (then roll it out
        there): only a version whose rollout succeeded on its own cluster."""
        version = self.get_object()
        given = PromoteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        cluster = Cluster.objects.filter(name=given.validated_data["cluster"]).first()
        if cluster is None:
            return refusal.invalid(f"No cluster named {given.validated_data['cluster']!r}.")
        try:
            row = promotion_rules.request(version, cluster, request.user)
        except promotion_rules.PromotionRefused as error:
            return refusal.conflict(str(error))
        row = Promotion.objects.select_related("source__cluster", "target_cluster").get(pk=row.pk)
        return Response(PromotionDetailSerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["get"], pagination_class=None)
    def log(self, request, pk=None):
        """Its build and push log, from line `after` on (poll while it runs)."""
        version = self.get_object()
        try:
            after = max(int(request.query_params.get("after", "0")), 0)
        except ValueError:
            raise ValidationError({"after": "A line number."}) from None
        lines = version.log_lines.filter(number__gt=after).order_by("number").values("number", "text")[:LOG_PAGE]
        return Response(LogLineSerializer(lines, many=True).data)
