"""/api/: the operations (a router over the viewsets), their index, the
OpenAPI schema and its Swagger UI (served from drf-spectacular-sidecar's
static files)."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.views.fleet import ClusterViewSet, FenceRestartViewSet, NodeViewSet
from api.views.images import ImageVersionViewSet
from api.views.index import ApiIndex, list_permissions
from api.views.promotions import PromotionViewSet
from api.views.rollouts import RolloutViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False  # ApiIndex, below: the router's root view with the API's roles
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("nodes", NodeViewSet, basename="node")
router.register("image-versions", ImageVersionViewSet, basename="imageversion")
router.register("rollouts", RolloutViewSet, basename="rollout")
router.register("promotions", PromotionViewSet, basename="promotion")
router.register("fence-restarts", FenceRestartViewSet, basename="fencerestart")

index = ApiIndex.as_view(api_root_dict={prefix: f"{basename}-list" for prefix, _, basename in router.registry},
                         reads=list_permissions(router.registry))

urlpatterns = [
    path("", index, name="api-root"),
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
