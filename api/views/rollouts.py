"""Rollouts: list, read (with steps and decisions), start, cancel, undo
(approve, reject, pause, resume, the manual gate: rollout_governance.py).
Through images/rollouts/start.py and cancel.py with the strategy checked by
the plan page's form, as the admin and `manage.py rollout` do; their
refusals come back as 409 with the console's words."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import filters, refusal
from api.permissions import RolePermissions
from api.views.rollout_governance import RolloutGovernance
from api.serializers import (CancelSerializer, RefusalSerializer, RolloutAnswerSerializer, RolloutDetailSerializer,
                             RolloutSerializer, StartSerializer, StrategySerializer)
from images.models import ImageVersion, Rollout
from images.models.rollout import RolloutStatus
from images.rollouts import cancel as cancelling
from images.rollouts import start
from images.rollouts.forms import RolloutForm

ACTIVATE, DISTRIBUTE, VIEW = "images.activate_rollout", "images.distribute_rollout", "images.view_rollout"
REFUSED = {409: OpenApiResponse(RefusalSerializer, description="Refused: nothing was started or changed."),
           400: OpenApiResponse(RefusalSerializer, description="The strategy or the reason is not valid.")}


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("cluster", str, description="Only this cluster (its name)."),
                                   OpenApiParameter("status", str, enum=RolloutStatus.values)]),
    retrieve=extend_schema(responses=RolloutDetailSerializer),
    create=extend_schema(operation_id="rollouts_start", request=StartSerializer, responses={201: RolloutDetailSerializer, **REFUSED}),
    cancel=extend_schema(operation_id="rollouts_cancel", request=CancelSerializer, responses={202: RolloutAnswerSerializer, **REFUSED}),
    undo=extend_schema(operation_id="rollouts_undo", request=StrategySerializer, responses={201: RolloutDetailSerializer, **REFUSED}),
)
class RolloutViewSet(RolloutGovernance, RolePermissions, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    permissions = {"list": (VIEW,), "retrieve": (VIEW,), "cancel": (ACTIVATE,), "undo": (ACTIVATE,),
                   **RolloutGovernance.governance_permissions}

    def required_permissions(self, request):
        if self.action == "create":
            # As in the admin: distributing only is the Operator's, activating the Release manager's.
            return (DISTRIBUTE,) if _distribute_only(request) else (ACTIVATE,)
        return super().required_permissions(request)

    def get_queryset(self):
        rollouts = Rollout.objects.select_related("cluster").order_by("-created_at")
        if self.action == "retrieve":
            rollouts = rollouts.prefetch_related("steps__node")
        params = self.request.query_params
        if self.action != "list":
            return rollouts  # the query string of a cancel or an approval is not a filter on its rollout
        if "cluster" in params:
            rollouts = rollouts.filter(cluster__name=params["cluster"])
        if "status" in params:
            rollouts = rollouts.filter(status=filters.one_of("status", params["status"], RolloutStatus.values))
        return rollouts

    def get_serializer_class(self):
        return RolloutDetailSerializer if self.action == "retrieve" else RolloutSerializer

    def create(self, request):
        """Roll an image version out to its cluster (or only distribute it)."""
        given = StartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = ImageVersion.objects.select_related("cluster").filter(pk=given.validated_data["version"]).first()
        if version is None:
            return refusal.invalid(f"No image version with id {given.validated_data['version']}.")
        return self._start(given.validated_data, lambda **strategy: start.rollout_version(
            version, distribute_only=given.validated_data["distribute_only"], user=request.user, **strategy))

    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Roll back to the image a finished rollout replaced."""
        earlier = self.get_object()
        given = StrategySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return self._start(given.validated_data, lambda **strategy: start.undo(earlier, user=request.user, **strategy))

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop before the next step: stop here, or stop and roll back."""
        given = CancelSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            said = cancelling.request(self.get_object(), roll_back=given.validated_data["roll_back"], user=request.user)
        except cancelling.CancelRefused as error:
            return refusal.conflict(str(error))
        return Response({"detail": said, "rollout": RolloutSerializer(self.get_queryset().get(pk=pk)).data},
                        status=status.HTTP_202_ACCEPTED)

    def _start(self, data, starter):
        form = RolloutForm({**{name: data[name] for name in ("reason", "canaries", "max_in_flight",
                                                             "failure_threshold", "health_wait")},
                            **{name: "on" for name in ("auto_rollback", "manual_gate") if data[name]}})
        if not form.is_valid():
            return refusal.invalid(f"Nothing was started. {refusal.form_errors(form)}")
        try:
            rollout = starter(**form.cleaned_data)
        except start.RolloutRefused as error:
            return refusal.conflict(str(error))
        rollout = Rollout.objects.select_related("cluster").prefetch_related("steps__node").get(pk=rollout.pk)
        return Response(RolloutDetailSerializer(rollout).data, status=status.HTTP_201_CREATED)


def _distribute_only(request) -> bool:
    """As StartSerializer will read it (anything else is refused there)."""
    value = request.data.get("distribute_only", False) if isinstance(request.data, dict) else False
    try:
        return value in serializers.BooleanField.TRUE_VALUES
    except TypeError:  # a list or a dict: not hashable, and not true
        return False
