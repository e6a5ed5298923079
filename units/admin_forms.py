from django import forms
from django.core.exceptions import ValidationError

from units.models import Rotation

WEEKDAY_CHOICES = [
    ("0", "Mon"), ("1", "Tue"), ("2", "Wed"), ("3", "Thu"), ("4", "Fri"), ("5", "Sat"), ("6", "Sun"),
]


def describe_weekdays(weekdays: str) -> str:
    if weekdays == "0123456":
        return "Every day"
    return " ".join(label for value, label in WEEKDAY_CHOICES if value in weekdays)


class WeekdaysField(forms.MultipleChoiceField):
    """Checkboxes for the days of the week, stored as a string of digits such as "01234"."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"required": "Choose at least one day."})
        super().__init__(choices=WEEKDAY_CHOICES, **kwargs)

    def prepare_value(self, value):
        return list(value) if isinstance(value, str) else value

    def clean(self, value):
        return "".join(sorted(super().clean(value)))


class RotationForm(forms.ModelForm):
    weekdays = WeekdaysField(
        label="On call days",
        initial=Rotation._meta.get_field("weekdays").default,
        help_text=Rotation._meta.get_field("weekdays").help_text,
    )

    class Meta:
        model = Rotation
        fields = ["tier", "name", "shift_length", "shift_unit", "start_date", "handoff_time", "end_date", "weekdays"]


class ParticipantFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        participants = [
            form for form in self.forms if form.cleaned_data.get("person") and not self._should_delete_form(form)
        ]
        if not participants:
            raise ValidationError("A rotation needs at least one participant.")


class OverrideFormSet(forms.BaseInlineFormSet):
    """Override.clean() only sees overrides already saved, so also compare the rows of one submission."""

    def clean(self):
        super().clean()
        seen: list[dict] = []
        for form in self.forms:
            if not form.is_valid() or not form.cleaned_data or self._should_delete_form(form):
                continue
            row = form.cleaned_data
            for other in seen:
                if (other["person"] == row["person"] and other["starts_at"] < row["ends_at"]
                        and other["ends_at"] > row["starts_at"]):
                    raise ValidationError(f"{row['person']} has two overlapping overrides on this list.")
            seen.append(row)
