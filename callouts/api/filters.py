from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from callouts.models import Callout
from units.api.schedule_serializers import StrictBooleanFilter, StrictFilterForm

MAX_ID = 2**63 - 1  # the largest id a database stores; larger numbers are refused, not overflowed


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """An id matched as a plain number, so an id that exists but is hidden answers like one that does not."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class CalloutFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=Callout.State.choices, help_text="Any of these states.")
    open = StrictBooleanFilter(method="filter_open", help_text="Only open callouts (true) or only ended ones.")
    unit = IdFilter(field_name="unit_id", help_text="Only this unit's callouts.")
    exercise = StrictBooleanFilter(help_text="Only drills (true) or only real callouts (false).")

    class Meta:
        model = Callout
        form = StrictFilterForm
        fields = ["state", "open", "unit", "exercise"]

    def filter_open(self, queryset, name, value):
        if value:
            return queryset.filter(state__in=Callout.OPEN_STATES)
        return queryset.exclude(state__in=Callout.OPEN_STATES)
