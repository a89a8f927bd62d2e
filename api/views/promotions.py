"""Promotions: list and read them (status, reason, digest, where from and
to, the version made on the target, the copy job's log). They are started
by POST /api/image-versions/{id}/promote/ (api/views/images.py), through
images/promotion/rules.request as the admin's "Promote to cluster…"."""
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from api import filters
from api.permissions import RolePermissions
from api.serializers import PromotionDetailSerializer, PromotionSerializer
from images.models import Promotion
from images.promotion.rules import VIEW_PERMISSION
from job_runs.models import RunStatus

VIEW = (VIEW_PERMISSION,)


@extend_schema_view(
    list=extend_schema(parameters=[
        OpenApiParameter("source", int, description="Only promotions of this image version (its id)."),
        OpenApiParameter("target_cluster", str, description="Only promotions to this cluster (its name)."),
        OpenApiParameter("status", str, enum=RunStatus.values)]),
    retrieve=extend_schema(responses=PromotionDetailSerializer),
)
class PromotionViewSet(RolePermissions, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permissions = {"list": VIEW, "retrieve": VIEW}

    def get_queryset(self):
        promotions = Promotion.objects.select_related("source__cluster", "target_cluster").order_by("-created_at")
        if self.action != "list":
            return promotions
        params = self.request.query_params
        if "source" in params:
            if not params["source"].isdigit():
                raise ValidationError({"source": "An image version's id."})
            promotions = promotions.filter(source_id=int(params["source"]))
        if "target_cluster" in params:
            promotions = promotions.filter(target_cluster__name=params["target_cluster"])
        if "status" in params:
            promotions = promotions.filter(status=filters.one_of("status", params["status"], RunStatus.values))
        return promotions

    def get_serializer_class(self):
        return PromotionDetailSerializer if self.action == "retrieve" else PromotionSerializer
