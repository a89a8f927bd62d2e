"""What a Release manager does to a rollout after it started, as on its
page: approve or reject it (two-person approval on a protected cluster),
start it outside its maintenance window, pause and resume it, and choose at
its manual gate. Each goes through the same function as the page
(images/rollouts/approval.py, windows.py, pause.py, manual_gate.py), which
also checks the role and approver != requester; a refusal is a 409 with its
words."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api import refusal
from api.serializers import RefusalSerializer, RolloutAnswerSerializer, RolloutSerializer, Strict
from images.models.rollout import GateDecision
from images.rollouts import approval, manual_gate, windows
from images.rollouts import pause as pausing

ACTIVATE = "images.activate_rollout"
ACTIONS = ("approve", "reject", "override_window", "pause", "resume", "gate")
REFUSED = {409: OpenApiResponse(RefusalSerializer, description="Refused: nothing was changed; detail says why.")}
REFUSALS = (approval.ApprovalRefused, windows.WindowRefused, pausing.PauseRefused, manual_gate.GateRefused)


class ReasonSerializer(Strict):
    reason = serializers.CharField(allow_blank=True, help_text="Recorded with the decision.")


class GateSerializer(Strict):
    choice = serializers.ChoiceField(choices=GateDecision.choices,
                                     help_text="continue: the other DEAs; rollback: config back, then the canaries.")


def _answer(operation_id: str, request=None):
    return extend_schema(operation_id=operation_id, request=request, responses={200: RolloutAnswerSerializer, **REFUSED})


class RolloutGovernance:
    """Mixed into RolloutViewSet (get_object, get_queryset)."""
    governance_permissions = {name: (ACTIVATE,) for name in ACTIONS}

    @_answer("rollouts_approve")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a rollout awaiting approval (not your own)."""
        return self._act(lambda rollout: approval.approve(rollout, request.user))

    @_answer("rollouts_reject", ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a rollout awaiting approval: it ends cancelled, with the reason."""
        reason = self._valid(ReasonSerializer, request)["reason"]
        return self._act(lambda rollout: approval.reject(rollout, request.user, reason))

    @_answer("rollouts_override_window", ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="override-window")
    def override_window(self, request, pk=None):
        """Start a rollout waiting for its maintenance window now; the reason is recorded."""
        reason = self._valid(ReasonSerializer, request)["reason"]
        return self._act(lambda rollout: windows.override(rollout, request.user, reason))

    @_answer("rollouts_pause")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """The steps in flight finish; no further step starts until resumed."""
        return self._act(lambda rollout: pausing.pause(rollout, user=request.user))

    @_answer("rollouts_resume")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act(lambda rollout: pausing.resume(rollout, user=request.user))

    @_answer("rollouts_gate", GateSerializer)
    @action(detail=True, methods=["post"])
    def gate(self, request, pk=None):
        """At the manual gate after the canaries: continue, or roll back."""
        choice = self._valid(GateSerializer, request)["choice"]
        return self._act(lambda rollout: manual_gate.choose(rollout, choice, user=request.user))

    @staticmethod
    def _valid(serializer_class, request) -> dict:
        given = serializer_class(data=request.data)
        given.is_valid(raise_exception=True)
        return given.validated_data

    def _act(self, doing):
        rollout = self.get_object()
        try:
            said = doing(rollout)
        except REFUSALS as error:
            return refusal.conflict(str(error))
        return Response({"detail": said, "rollout": RolloutSerializer(self.get_queryset().get(pk=rollout.pk)).data},
                        status=status.HTTP_200_OK)
