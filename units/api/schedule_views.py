"""Schedule endpoints: units and who is on call (operators, supervisors), my shifts and my unavailability."""

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from config.api import refused_unless
from units.api.schedule_serializers import (
    MAX_SHIFT_WINDOW,
    MAX_UNAVAILABILITY,
    OnCallQuerySerializer,
    OnCallSerializer,
    ShiftSerializer,
    ShiftWindowSerializer,
    StrictBooleanFilter,
    StrictFilterForm,
    UnavailabilityInputSerializer,
    UnavailabilitySerializer,
    UnitSerializer,
)
from units.models import Person, Unavailability, Unit
from units.schedule import resolve_callout_lists
from units.selectors import own_unavailability, person_shifts, visible_units
from units.services import unavailability_create, unavailability_delete

# InstantField's range, which OpenAPI's date-time cannot state.
IN_RANGE = "is a time between 2000 and 2099"


class CanReadUnits(BasePermission):
    message = "Only operators, supervisors and administrators see units and who is on call."

    def has_permission(self, request, view):
        return request.user.has_perm("units.view_unit")


class HasPerson(BasePermission):
    message = "Only people on a unit's lists have shifts and unavailability; this login has no person."

    def has_permission(self, request, view):
        return isinstance(getattr(request.user, "person", None), Person)


class UnitFilter(filters.FilterSet):
    active = StrictBooleanFilter(help_text="Only active units (true) or only inactive ones.")

    class Meta:
        model = Unit
        form = StrictFilterForm
        fields = ["active", "code"]


class UnitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Units visible to me: every unit for operators and administrators, their own units for supervisors."""

    serializer_class = UnitSerializer
    permission_classes = [IsAuthenticated, CanReadUnits]
    filterset_class = UnitFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return visible_units(self.request.user).prefetch_related("tiers").order_by("name")

    @extend_schema(summary="Units I can see")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Who is on call",
        description="The unit's callout lists at a moment, as a launch then would freeze them: each person with "
        "every reason they are listed (rotation, override, fixed rule). Leave and unavailability are applied.",
        parameters=[OnCallQuerySerializer],
        responses={200: OnCallSerializer, 400: refused_unless(at=IN_RANGE)},
        filters=False,
    )
    @action(detail=True, filter_backends=[])
    def oncall(self, request, pk=None):
        unit = self.get_object()
        query = OnCallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data["at"]
        tiers = resolve_callout_lists(unit, at)
        return Response(OnCallSerializer({"unit": unit, "at": at, "tiers": tiers}).data)


class ShiftListView(generics.ListAPIView):
    """My on-call shifts, worked out by the same resolver as the admin's schedule preview and callout launch."""

    serializer_class = ShiftSerializer
    permission_classes = [IsAuthenticated, HasPerson]
    filter_backends = []

    @extend_schema(summary="My on-call shifts", parameters=[ShiftWindowSerializer],
                   responses={200: ShiftSerializer(many=True), 400: refused_unless(**{
                       "from": IN_RANGE,
                       "to": f"is after `from` (or now), at most {MAX_SHIFT_WINDOW.days} days after it, and {IN_RANGE}",
                   })})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        window = ShiftWindowSerializer(data=self.request.query_params)
        window.is_valid(raise_exception=True)
        return person_shifts(self.request.user.person, **window.validated_data)


class UnavailabilityFilter(filters.FilterSet):
    upcoming = StrictBooleanFilter(method="filter_upcoming",
                                            help_text="Only what has not ended yet (true), or only what has.")

    class Meta:
        model = Unavailability
        form = StrictFilterForm
        fields = ["kind"]

    def filter_upcoming(self, queryset, name, value):
        now = timezone.now()
        return queryset.filter(ends_at__gt=now) if value else queryset.filter(ends_at__lte=now)


class UnavailabilityViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """My leave and other unavailability: while it lasts I am on no callout list, whatever else says I am."""

    queryset = Unavailability.objects.none()  # names the model for the schema; get_queryset scopes it to the caller
    serializer_class = UnavailabilitySerializer
    permission_classes = [IsAuthenticated, HasPerson]
    filterset_class = UnavailabilityFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return own_unavailability(self.request.user).order_by("starts_at", "id")

    @extend_schema(summary="My unavailability")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Add unavailability", description="Takes me off every list from start to end (at most "
                   "366 days); left without a start, from now.", request=UnavailabilityInputSerializer,
                   examples=[OpenApiExample("Court", request_only=True, value={
                       "kind": "court", "starts_at": "2026-05-01T09:00:00+01:00",
                       "ends_at": "2026-05-01T17:00:00+01:00", "note": "Southwark Crown Court"})],
                   responses={201: UnavailabilitySerializer, 400: refused_unless(
                       starts_at=IN_RANGE,
                       ends_at=f"is after `starts_at`, at most {MAX_UNAVAILABILITY.days} days after it, and {IN_RANGE}",
                   )})
    def create(self, request):
        serializer = UnavailabilityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unavailability = unavailability_create(person=request.user.person, actor=request.user,
                                               **serializer.validated_data)
        return Response(UnavailabilitySerializer(unavailability).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove unavailability", description="Puts me back on my lists for that window.",
                   responses={204: OpenApiResponse(description="Removed.")})
    def destroy(self, request, pk=None):
        unavailability_delete(unavailability=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
