from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import AnonRateThrottle, EnrolRateThrottle
from units.api.serializers import (
    AppConfigSerializer,
    DeviceSerializer,
    EnrolledDeviceSerializer,
    EnrolmentSerializer,
    MeSerializer,
    PushSubscriptionInputSerializer,
    PushSubscriptionSerializer,
    WipeSerializer,
)
from units.auth_events import client_address
from units.authentication import device_for_wipe_key
from units.models import Device
from units.services import device_enrol, device_revoke, push_subscription_save


class DeviceViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's enrolled devices; enrolling a new one is the API's login."""

    serializer_class = DeviceSerializer
    queryset = Device.objects.filter(revoked_at__isnull=True).order_by("-created_at")
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return self.queryset.filter(user=self.request.user)

    def get_authenticators(self):
        # Enrolment is how a phone gets a token: a stale token it still sends must not stand in the way.
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self.action in ("create", "wipe") else super().get_permissions()

    def get_throttles(self):
        if self.action == "wipe":
            return [AnonRateThrottle()]
        return [EnrolRateThrottle()] if self.action == "create" else super().get_throttles()

    @extend_schema(
        summary="Enrol this device",
        description="Log in with password and one-time code; the answer holds the device token and the device's "
        "wipe key, shown this once. Five failed logins within 15 minutes lock the account (403 `account_locked`) "
        "until an administrator unlocks it; enrolment is also rate limited per address.",
        request=EnrolmentSerializer,
        responses={
            201: EnrolledDeviceSerializer,
            400: OpenApiResponse(description="Invalid input, or wrong username, password or one-time code "
                                 "(`invalid_credentials`)."),
        },
    )
    def create(self, request):
        serializer = EnrolmentSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        device, token, wipe_key = device_enrol(user=data["user"], name=data["name"], platform=data["platform"],
                                               remote_addr=client_address(request))
        device.token, device.wipe_key = token, wipe_key
        return Response(EnrolledDeviceSerializer(device).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Sign this device out", description="Its token stops working at once.")
    def destroy(self, request, pk=None):
        device_revoke(device=self.get_object(), actor=request.user, reason=Device.RevokedReason.OWNER)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Sign a device out with its wipe key",
        description="For an app that wipes itself after too many wrong PINs: it no longer has its token, only the "
        "wipe key enrolment gave it. The device is signed out as by `DELETE /auth/devices/{id}/`: its token stops "
        "working at once and its push subscriptions stop. Sent again, it answers 204 again. Needs no token; "
        "limited per address like every request without one.",
        request=WipeSerializer,
        responses={204: OpenApiResponse(description="Signed out."),
                   404: OpenApiResponse(description="No device has this id and wipe key (`not_found`).")},
        examples=[OpenApiExample("Wipe", request_only=True,
                                 value={"device": 12, "wipe_key": "q3Xv0b1sJ8m2c7Rk9TzL4yWnHfA6eGdPuVxYiKoM5aE"})],
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def wipe(self, request):
        serializer = WipeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = device_for_wipe_key(device_id=serializer.validated_data["device"],
                                     wipe_key=serializer.validated_data["wipe_key"])
        if device is None:
            raise NotFound()  # a wrong key and an unknown device look the same: nothing to learn by guessing
        device_revoke(device=device, actor=device.user, reason=Device.RevokedReason.WIPED)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(summary="Who I am", responses=MeSerializer)
    def get(self, request):
        user = type(request.user).objects.prefetch_related(
            "groups", "person__contact_methods", "person__memberships__unit",
            "person__memberships__qualifications",
        ).get(pk=request.user.pk)
        return Response(MeSerializer(user, context={"request": request}).data)


class PushSubscriptionView(APIView):
    @extend_schema(
        summary="Send my alerts to this browser",
        description="Takes the browser's `PushSubscription.toJSON()`; a subscription already known is updated. "
        "It becomes a verified push contact method of the caller, tried at once on every alert.",
        request=PushSubscriptionInputSerializer,
        responses={201: PushSubscriptionSerializer, 200: PushSubscriptionSerializer},
    )
    def post(self, request):
        person = getattr(request.user, "person", None)
        if person is None:
            raise PermissionDenied("Only people on a unit's lists receive alerts; this login has no person.")
        serializer = PushSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription, created = push_subscription_save(
            person=person, endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"],
            user_agent=request.headers.get("User-Agent", ""), actor=request.user, device=request.auth,
        )
        return Response(PushSubscriptionSerializer(subscription).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)



class AppConfigView(APIView):
    """What the field app needs before it has a token: public facts, the same for everyone."""

    # A stale token the app still sends must not turn public facts into a 401.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(summary="The field app's settings", description="The Web Push key to subscribe with, and "
                   "when the app locks and wipes itself. Needs no token.", responses=AppConfigSerializer)
    def get(self, request):
        return Response(AppConfigSerializer({
            "vapid_public_key": settings.VAPID_PUBLIC_KEY, "lock_after_minutes": settings.APP_LOCK_MINUTES,
            "pin_attempts": settings.APP_PIN_ATTEMPTS,
        }).data)
