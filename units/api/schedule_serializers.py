"""Serializers of the schedule endpoints: units and who is on call, my shifts, my unavailability."""

from datetime import UTC, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from config.api import StrictCharField
from units.models import Person, Tier, Unavailability, Unit

# Instants outside these bounds are refused: nobody schedules there, and near year 1 or 9999 converting an
# offset to UTC or adding a window overflows.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_SHIFT_WINDOW = timedelta(days=62)
DEFAULT_SHIFT_WINDOW = timedelta(days=14)
MAX_UNAVAILABILITY = timedelta(days=366)


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field):
    """An ISO 8601 date and time with its UTC offset (``2026-05-01T09:00:00+01:00`` or ``...Z``), 2000–2099."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time with its UTC offset, e.g. 2026-05-01T09:00:00+01:00 "
        "(in a query string, write + as %2B).",
        "naive": "Give the UTC offset too, e.g. 2026-05-01T09:00:00+01:00 or 2026-05-01T08:00:00Z.",
        "range": "Give a time between 2000 and 2099.",
    }

    def get_value(self, dictionary):
        # An empty or repeated query parameter is refused like any other value that is not one date and time,
        # not taken as left out or as its last copy.
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name)
            return values[0] if len(values) == 1 else (values or serializers.empty)
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data):
        try:
            value = parse_datetime(data) if isinstance(data, str) else None
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None:
            self.fail("naive")
        # Compared field by field: astimezone() itself overflows on year 1 with a positive offset.
        if not EARLIEST.year <= value.year < LATEST.year:
            self.fail("range")
        return value.astimezone(UTC)

    def to_representation(self, value):
        return serializers.DateTimeField().to_representation(value)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that refuses "15", 15.0 and true instead of turning them into numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes only true and false, not "yes", 1 or "on"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id that must be a JSON number: "5" and true are refused rather than looked up."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class TrueFalseField(forms.Field):
    """``true`` or ``false``, as the schema says; anything else is refused rather than quietly ignored."""

    def to_python(self, value):
        if value is None:
            return None
        if value not in ("true", "false"):
            raise ValidationError("Use true or false.", code="invalid")
        return value == "true"


class StrictFilterForm(forms.Form):
    """The form of a filter set that refuses what django-filter would quietly ignore: an empty value, or a
    single-valued parameter given twice (of which it would take the last)."""

    def clean(self):
        for name, field in self.fields.items():
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if "" in values:
                self.errors.pop(name, None)  # this says it better than "  is not one of the choices"
                self.add_error(name, "Give a value, or leave the parameter out.")
            elif len(values) > 1 and not isinstance(field, forms.MultipleChoiceField):
                self.add_error(name, "Give this parameter once.")
        return super().clean()


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = TrueFalseField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, widget=forms.TextInput, **kwargs)


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name"]


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["position", "name"]


class UnitSerializer(serializers.ModelSerializer):
    tiers = TierSerializer(many=True, read_only=True, help_text="The unit's callout lists, primary first.")

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "description", "timezone", "active", "tiers"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["rotation", "override", "fixed"],
                                   help_text="What put the person there: their rotation, an override or a fixed rule.")
    text = serializers.CharField(help_text="The same reason in words, e.g. 'Weekday rotation'.")


class PersonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "full_name", "rank", "badge_number"]


class OnCallEntrySerializer(serializers.Serializer):
    person = PersonRefSerializer()
    reasons = ReasonSerializer(many=True)


class OnCallTierSerializer(serializers.Serializer):
    position = serializers.IntegerField(source="tier.position", help_text="1 is primary, 2 secondary, ...")
    name = serializers.CharField(source="tier.name")
    people = OnCallEntrySerializer(source="entries", many=True, help_text="In the order they are listed.")


class OnCallSerializer(serializers.Serializer):
    unit = UnitRefSerializer()
    at = serializers.DateTimeField()
    tiers = OnCallTierSerializer(many=True, help_text="Every list of the unit, primary first; a list may be empty.")


class OnCallQuerySerializer(serializers.Serializer):
    at = InstantField(required=False, help_text="The moment to resolve the lists for; now when left out. Between "
                                               "2000 and 2099.")

    def validate(self, data):
        return {"at": data.get("at") or timezone.now()}


class ShiftWindow(serializers.Serializer):
    to = InstantField(required=False, help_text="End of the window; 14 days after the start when left out. "
                                               "After the start and at most 62 days after it, between 2000 and "
                                               "2099; otherwise refused (400).")

    def validate(self, data):
        start = data.get("from") or timezone.now()
        end = data.get("to") or start + DEFAULT_SHIFT_WINDOW
        if end <= start:
            raise serializers.ValidationError({"to": "The end must be after the start."})
        if end - start > MAX_SHIFT_WINDOW:
            raise serializers.ValidationError({"to": f"At most {MAX_SHIFT_WINDOW.days} days after the start."})
        return {"start": start, "end": end}


# "from" is a Python keyword, so the field of that name is added by name.
ShiftWindowSerializer = type("ShiftWindowSerializer", (ShiftWindow,), {
    "__module__": __name__,
    "from": InstantField(required=False, help_text="Start of the window; now when left out. Between 2000 and "
                                                   "2099."),
})


class ShiftSerializer(serializers.Serializer):
    unit = UnitRefSerializer()
    tier = TierSerializer(help_text="The list I am on.")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reasons = ReasonSerializer(many=True)


class UnavailabilitySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Unavailability.Kind.choices, default=Unavailability.Kind.LEAVE)
    starts_at = InstantField(help_text="With its UTC offset, between 2000 and 2099.")
    ends_at = InstantField(help_text=f"After starts_at, at most {MAX_UNAVAILABILITY.days} days after it; otherwise "
                                     "refused (400).")
    note = StrictCharField(max_length=200, required=False, allow_blank=True, default="")

    class Meta:
        model = Unavailability
        fields = ["id", "kind", "starts_at", "ends_at", "note"]
        read_only_fields = ["id"]

    def validate(self, data):
        if data["ends_at"] <= data["starts_at"]:
            raise serializers.ValidationError({"ends_at": "The end must be after the start."})
        if data["ends_at"] - data["starts_at"] > MAX_UNAVAILABILITY:
            raise serializers.ValidationError(
                {"ends_at": f"At most {MAX_UNAVAILABILITY.days} days; ask an administrator for longer absences."}
            )
        return data


@extend_schema_serializer(component_name="Unavailability")  # its request is UnavailabilityRequest, as before
class UnavailabilityInputSerializer(UnavailabilitySerializer):
    """What adding unavailability takes: as it is shown, but the start may be left out to mean now."""

    starts_at = InstantField(required=False, help_text="With its UTC offset, between 2000 and 2099. Left out: now, "
                             "by the server's clock (\"unavailable until ...\").")

    def validate(self, data):
        # "Unavailable until": the phone's clock may be minutes out, so the start is the server's now.
        return super().validate({"starts_at": timezone.now(), **data})
