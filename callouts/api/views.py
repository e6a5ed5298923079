"""Callout endpoints: responders see and answer what they were alerted for, operators launch and act."""

import re

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from callouts.api.filters import CalloutFilter
from callouts.api.serializers import (
    CalloutSerializer,
    CancelSerializer,
    CloseSerializer,
    LaunchSerializer,
    PushAnswerResultSerializer,
    PushAnswerSerializer,
    RespondSerializer,
)
from callouts.idempotency import IdempotencyKey
from callouts.live import with_counts
from callouts.models import Callout, Recipient
from callouts.push_answers import push_answer_recipient
from callouts.selectors import LAUNCH_PERMISSION, alerted_recipient, coming_recipients, visible_callouts
from callouts.services.callouts import (
    callout_cancel,
    callout_close,
    callout_escalate_now,
    callout_launch,
    callout_launch_once,
    callout_respond,
)
from config.api import AnonRateThrottle, refused_unless
from units.access import ACCOUNT_DISABLED, may_act, response_refused

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII, no spaces
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"}, OpenApiParameter.HEADER,
    description="Any string of up to 64 printable characters, new for each callout. Keys are your login's own: "
    "another login's key, or one from the back office's launch form, is never matched. A launch retried with the "
    "same key and the same body (unit, message, incident_ref, priority, exercise, need; the order of fields does not "
    "matter) returns the callout the first one made, with 200, instead of paging the unit twice, also when the two "
    "arrive together. The same key with a different body is refused with 422 and pages nobody.",
)
CONFLICT = OpenApiResponse(description="The callout is closed or cancelled (or, to escalate, no longer active).")
KEY_REUSED = OpenApiResponse(description="The Idempotency-Key already launched a callout for a different request "
                             "(`idempotency_key_reused`); nobody was paged. Send that request again to get that "
                             "callout, or use a new key for a new callout.")
NOT_ALERTED = "You were not alerted for this callout, so there is nothing to answer."
NOT_OPERATOR = "Only operators may launch callouts and act on them."


class CalloutViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Callouts visible to me: those I was alerted for, my units' as a supervisor, all as an operator."""

    queryset = Callout.objects.none()  # names the model for the schema; get_queryset scopes it to the caller
    serializer_class = CalloutSerializer
    filterset_class = CalloutFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        user = self.request.user
        mine = Recipient.objects.filter(person__user=user, notified_at__isnull=False)
        return (with_counts(visible_callouts(user)).select_related("unit")
                .prefetch_related(Prefetch("recipients", queryset=mine, to_attr="mine"),
                                  Prefetch("recipients", queryset=coming_recipients(), to_attr="coming"))
                .order_by("open_first", "-launched_at", "-id"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "may_operate": self.request.user.has_perm(LAUNCH_PERMISSION)}

    def shaped(self, callout, status_code=status.HTTP_200_OK) -> Response:
        """The callout as the list shows it, read again after a change."""
        return Response(self.get_serializer(self.get_queryset().get(pk=callout.pk)).data, status=status_code)

    def require_operator(self):
        if not self.request.user.has_perm(LAUNCH_PERMISSION):
            raise PermissionDenied(NOT_OPERATOR)

    @extend_schema(summary="Callouts I can see", description="Open callouts first, then the newest.")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One callout", description="With my answer and the answers so far.")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Launch a callout",
        description="Freezes the unit's lists and alerts the first list with anyone on it. Operators only.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=LaunchSerializer,
        examples=[OpenApiExample("Launch", request_only=True, value={
            "unit": 1, "message": "Armed suspect at Kennington Park. RV Kennington police station.",
            "incident_ref": "CAD-2026-0412", "priority": "urgent",
            "need": {"quorum": 2, "requirements": [{"role": "team_leader", "count": 1}]},
        })],
        responses={201: CalloutSerializer, 200: OpenApiResponse(CalloutSerializer, description="A retry with "
                                                                "an Idempotency-Key already used: the first callout."),
                   400: refused_unless(unit="is the id of an active unit", need="gives each requirement a role or a "
                                       "known qualification code, not both, none listed twice and none a count over "
                                       "the quorum"),
                   422: KEY_REUSED},
    )
    def create(self, request):
        self.require_operator()
        key = idempotency_key(request)
        launch = validated(LaunchSerializer, request)
        if key is None:
            callout, created = callout_launch(actor=request.user, **launch), True
        else:
            callout, created = callout_launch_once(actor=request.user, key=key, **launch)
        return self.shaped(callout, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Answer a callout",
        description="Accept (with an ETA if you can) or decline; a later answer replaces the earlier one while the "
        "callout is open. The same service records answers by SMS, voice and email.",
        request=RespondSerializer,
        responses={200: CalloutSerializer, 409: CONFLICT,
                   400: refused_unless(eta_minutes="is given only with accept")},
        examples=[OpenApiExample("Accept", request_only=True,
                                 value={"response": "accept", "eta_minutes": 15, "note": "From Brixton"}),
                  OpenApiExample("Decline", request_only=True, value={"response": "decline"})],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def respond(self, request, pk=None):
        callout = self.get_object()
        recipient = alerted_recipient(callout, request.user)
        if recipient is None:
            raise PermissionDenied(NOT_ALERTED)
        answer = validated(RespondSerializer, request)
        callout_respond(recipient=recipient, channel="app", actor=request.user, **answer)
        return self.shaped(callout)

    @extend_schema(summary="Alert the next list now", description="Without waiting for this list's time to run "
                   "out. Operators only.", request=None, responses={200: CalloutSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], filter_backends=[])
    def escalate(self, request, pk=None):
        callout = self.get_object()
        self.require_operator()
        callout_escalate_now(callout=callout, actor=request.user)
        return self.shaped(callout)

    @extend_schema(summary="Cancel a callout", description="Everyone who accepted, and was not stood down "
                   "already, is told to stand down. Operators only.",
                   request=CancelSerializer, responses={200: CalloutSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        callout = self.get_object()
        self.require_operator()
        reason = validated(CancelSerializer, request)["reason"]
        callout_cancel(callout=callout, actor=request.user, reason=reason)
        return self.shaped(callout)

    @extend_schema(summary="Close a callout with its outcome", description="Everyone who accepted, and was not "
                   "stood down already, is told to stand down; the outcome is not sent. Operators only.",
                   request=CloseSerializer,
                   responses={200: CalloutSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], filter_backends=[])
    def close(self, request, pk=None):
        callout = self.get_object()
        self.require_operator()
        outcome = validated(CloseSerializer, request)["outcome"]
        callout_close(callout=callout, actor=request.user, outcome=outcome)
        return self.shaped(callout)


class PushAnswerView(APIView):
    """Accept or Decline pressed on a callout's notification, perhaps on a locked phone: the token the push
    carried is the credential (``callouts.push_answers``), not a device token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        summary="Answer a callout from its push",
        description="The token is the `answer.token` of the callout's push notification; it answers for the "
        "person that push went to, on that callout only, until the push's time at the push service "
        "(WEBPUSH_TTL) and a day more have passed. A later answer replaces the earlier one, and the same answer "
        "sent twice changes nothing. Recorded as an answer by push. Needs no device token; limited per address "
        "like every request without one.",
        request=PushAnswerSerializer,
        responses={200: PushAnswerResultSerializer,
                   403: OpenApiResponse(description="The token is forged or expired, or the person's account is "
                                        "disabled (`permission_denied`)."),
                   409: OpenApiResponse(description="The callout is closed or cancelled: answers are closed.")},
        examples=[OpenApiExample("Accept", request_only=True,
                                 value={"token": "eyJyIjo0Mn0:1u2v3w:abc", "response": "accept", "eta_minutes": 10})],
    )
    def post(self, request):
        answer = validated(PushAnswerSerializer, request)
        recipient = push_answer_recipient(answer["token"])
        if recipient is None:
            raise PermissionDenied("This answer has expired or is not valid: open Muster to answer.")
        person = recipient.person
        if not may_act(person.user):
            response_refused(person=person, target=recipient.callout, channel="push")
            raise PermissionDenied(f"{ACCOUNT_DISABLED}.")
        recipient = callout_respond(recipient=recipient, response=answer["response"], channel="push",
                                    eta_minutes=answer.get("eta_minutes"), actor=person.user)
        return Response(PushAnswerResultSerializer({"callout": recipient.callout_id, "response": recipient.response,
                                                    "eta_minutes": recipient.eta_minutes}).data)


def validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def idempotency_key(request) -> IdempotencyKey | None:
    """The Idempotency-Key header; the service looks it up with the caller, so two logins' keys never meet."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise serializers.ValidationError({"Idempotency-Key": "Up to 64 printable characters without spaces."})
    return IdempotencyKey(origin=Callout.KeyOrigin.API, value=key)
