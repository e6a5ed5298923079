from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ValidationError

from callouts.models import Callout, EscalationPolicy, Recipient
from callouts.need import MAX_QUORUM, MAX_REQUIREMENTS, QUALIFICATION, ROLE, Need, Requirement
from units.models import ContactMethod, Membership, Person, Qualification, Unit


class UnitChoiceForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.filter(active=True), empty_label=None)


def requirement_choices() -> list:
    roles = [(Requirement(kind=ROLE, code=value).key, label) for value, label in Membership.Role.choices]
    qualifications = [(Requirement(kind=QUALIFICATION, code=q.code).key, q.name) for q in Qualification.objects.all()]
    return [("", "---------"), ("Roles", roles), ("Qualifications", qualifications)]


class RequirementForm(forms.Form):
    """One row of the need: how many of the accepts must hold a role or a qualification."""

    requirement = forms.ChoiceField(label="Role or qualification", choices=requirement_choices, required=False)
    count = forms.IntegerField(label="How many", min_value=1, max_value=MAX_QUORUM, required=False,
                               widget=forms.NumberInput(attrs={"class": "vIntegerField"}))

    def chosen(self) -> Requirement | None:
        """The requirement this row asks for; None for an empty or removed row. A count left empty means one."""
        data = self.cleaned_data
        if not data.get("requirement") or data.get("DELETE"):
            return None
        return Requirement.from_key(data["requirement"], data.get("count") or 1)


RequirementFormSet = forms.formset_factory(RequirementForm, extra=3, can_delete=True, max_num=MAX_REQUIREMENTS,
                                           validate_max=True)


class LaunchForm(forms.Form):
    """The launch, with the need edited row by row: every requirement of the policy is a row of its own, so a
    launch that leaves the need alone asks exactly what the policy asks."""

    unit = forms.ModelChoiceField(queryset=Unit.objects.filter(active=True), widget=forms.HiddenInput)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "autofocus": True}),
                              help_text="What, where, and where to report. Sent as written to everyone alerted.")
    incident_ref = forms.CharField(label="Incident reference", max_length=60, required=False)
    priority = forms.ChoiceField(choices=Callout.Priority.choices, initial=Callout.Priority.URGENT)
    exercise = forms.BooleanField(label="Exercise", required=False, help_text="A drill: kept out of statistics.")
    quorum = forms.IntegerField(label="Accepts needed", min_value=1, max_value=MAX_QUORUM)
    # Made when the form is first shown, so a second click on "Launch" finds the callout the first one made.
    idempotency_key = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput,
        error_messages={"invalid": "This launch form was not made by Muster: check the details and launch again."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = RequirementFormSet(self.data if self.is_bound else None, prefix="requirements",
                                               initial=self.initial.get("requirements"))

    def clean(self):
        data = super().clean()
        if not self.requirements.is_valid():
            raise ValidationError("Correct the required roles and qualifications below.")
        if "quorum" in data:
            for problem in self.need().problems():
                self.add_error(None, problem)
        return data

    def need(self) -> Need:
        chosen = (row.chosen() for row in self.requirements.forms if row.cleaned_data)
        return Need(quorum=self.cleaned_data["quorum"], requirements=tuple(r for r in chosen if r))

    def initial_again(self) -> dict:
        """What the form was given, as a fresh form's initial values: removed rows gone, empty rows back."""
        return {**self.cleaned_data, **need_initial(self.need())}


def launch_initial(unit: Unit) -> dict:
    """The need the unit's escalation policy asks for (its defaults when it has none), every requirement a row."""
    return {"unit": unit, **need_initial(EscalationPolicy.for_unit(unit).need())}


def need_initial(need: Need) -> dict:
    return {"quorum": need.quorum,
            "requirements": [{"requirement": r.key, "count": r.count} for r in need.requirements]}


class AddPeopleForm(forms.Form):
    people = forms.ModelMultipleChoiceField(
        queryset=Person.objects.filter(active=True),
        widget=AutocompleteSelectMultiple(Recipient._meta.get_field("person"), admin.site),
    )


class ResendForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactMethod.Kind.choices)


def by_voice_field() -> forms.BooleanField:
    # Off unless ticked: a voice call is for alerts; an update by call rings a household at night.
    return forms.BooleanField(label="Also by voice call", required=False)


class UpdateForm(forms.Form):
    text = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))
    by_voice = by_voice_field()


class StandDownForm(forms.Form):
    text = forms.CharField(label="Reason", max_length=500, required=False)
    by_voice = by_voice_field()


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500)


class CloseForm(forms.Form):
    outcome = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))
