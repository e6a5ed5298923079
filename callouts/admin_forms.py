from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple

from callouts.models import Callout, EscalationPolicy, Recipient
from units.models import ContactMethod, Membership, Person, Qualification, Unit


class UnitChoiceForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.filter(active=True), empty_label=None)


class LaunchForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.filter(active=True), widget=forms.HiddenInput)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "autofocus": True}),
                              help_text="What, where, and where to report. Sent as written to everyone alerted.")
    incident_ref = forms.CharField(label="Incident reference", max_length=60, required=False)
    priority = forms.ChoiceField(choices=Callout.Priority.choices, initial=Callout.Priority.URGENT)
    exercise = forms.BooleanField(label="Exercise", required=False, help_text="A drill: kept out of statistics.")
    quorum = forms.IntegerField(label="Accepts needed", min_value=1)
    team_leaders = forms.IntegerField(label="Of whom team leaders", min_value=0, initial=0)
    qualifications = forms.ModelMultipleChoiceField(
        queryset=Qualification.objects.all(), required=False, widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="At least one accept must hold each qualification chosen.",
    )
    # Made when the form is first shown, so a second click on "Launch" finds the callout the first one made.
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def need(self) -> dict:
        data = self.cleaned_data
        requirements = []
        if data["team_leaders"]:
            requirements.append({"role": Membership.Role.TEAM_LEADER.value, "count": data["team_leaders"]})
        requirements += [{"qualification": q.code, "count": 1} for q in data["qualifications"]]
        return {"quorum": data["quorum"], "requirements": requirements}


def launch_initial(unit: Unit) -> dict:
    """The need the unit's escalation policy asks for, or the defaults when it has none yet."""
    policy = EscalationPolicy.objects.filter(unit=unit).prefetch_related("requirements__qualification").first()
    if policy is None:
        return {"unit": unit, "quorum": EscalationPolicy._meta.get_field("quorum").default, "team_leaders": 0}
    requirements = list(policy.requirements.all())
    return {
        "unit": unit,
        "quorum": policy.quorum,
        "team_leaders": sum(r.count for r in requirements if r.role == Membership.Role.TEAM_LEADER),
        "qualifications": [r.qualification for r in requirements if r.qualification_id],
    }


class AddPeopleForm(forms.Form):
    people = forms.ModelMultipleChoiceField(
        queryset=Person.objects.filter(active=True),
        widget=AutocompleteSelectMultiple(Recipient._meta.get_field("person"), admin.site),
    )


class ResendForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactMethod.Kind.choices)


class UpdateForm(forms.Form):
    text = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))


class StandDownForm(forms.Form):
    text = forms.CharField(label="Reason", max_length=500, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500)


class CloseForm(forms.Form):
    outcome = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))
