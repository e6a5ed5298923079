"""Admin forms for field reports: JSON typed in text areas, checked so a mistake is a form error, never a 500."""

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from config.outbound import resolved_problem, webhook_policy
from reports.models import (
    PUBLISHED_FIELDS,
    Area,
    CirculationPolicy,
    PartnerAgency,
    ReferralRule,
    ReportTypeVersion,
    ReviewPolicy,
)
from reports.schemas import schema_fields, version_problems


def json_area(rows: int = 12) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "cols": 90, "class": "vLargeTextField", "spellcheck": "false"})


def empty_as_list(value):
    return [] if value is None else value


def grading_values(version: ReportTypeVersion | None) -> list[str]:
    """The values the version's grading field allows, from its schema's enum (empty if it names none)."""
    if version is None or not version.grading_field:
        return []
    field = version.schema.get("properties", {}).get(version.grading_field, {})
    return [str(v) for v in field.get("enum", [])] if isinstance(field, dict) else []


class ReportTypeVersionForm(forms.ModelForm):
    class Meta:
        model = ReportTypeVersion
        fields = ["number", "schema", "promoted_fields", "grading_field", "summary_fields"]
        widgets = {"schema": json_area(18), "promoted_fields": json_area(2), "summary_fields": json_area(2)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.is_published:
            for name in [n for n in ("number", *PUBLISHED_FIELDS) if n in self.fields]:
                self.fields[name].widget.attrs["readonly"] = True
                self.fields[name].help_text = "Published: this never changes. Make a new draft version instead."

    def clean_promoted_fields(self):
        return empty_as_list(self.cleaned_data["promoted_fields"])

    def clean_summary_fields(self):
        return empty_as_list(self.cleaned_data["summary_fields"])

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.is_published:
            stored = ReportTypeVersion.objects.get(pk=self.instance.pk)
            changed = [name for name in ("number", *PUBLISHED_FIELDS)
                       if name in cleaned and cleaned[name] != getattr(stored, name)]
            if changed:
                raise ValidationError(
                    f"Version {stored.number} is published and cannot change ({', '.join(changed)}); "
                    "make a new draft version instead."
                )
            return cleaned
        if all(name in cleaned for name in PUBLISHED_FIELDS):
            for field, message in version_problems(**{name: cleaned[name] for name in PUBLISHED_FIELDS}).items():
                self.add_error(field, message)
        return cleaned


class ReportTypeVersionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form) and form.instance.is_published:
                raise ValidationError(f"Version {form.instance.number} is published and cannot be deleted.")


class AreaForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ["code", "name", "kind", "parent", "patrol_unit", "supervisor_unit", "boundary"]
        widgets = {"boundary": json_area(10)}


class PartnerAgencyForm(forms.ModelForm):
    """The webhook secret is never shown again once saved; leaving it empty keeps the current one."""

    webhook_url = forms.URLField(
        required=False, assume_scheme="https", max_length=200,
        help_text="HTTPS address referrals are posted to, if set. It must be on the internet: an address that is "
        "(or whose name resolves to) loopback, private, link-local or cloud metadata is refused, unless your "
        "operator named its host in WEBHOOK_ALLOWED_HOSTS. Redirects are not followed.")
    webhook_secret = forms.CharField(
        required=False, max_length=128, widget=forms.PasswordInput(render_value=False),
        help_text="Shared secret for the X-Muster-Signature HMAC-SHA256 header. Leave empty to keep the current one.",
    )

    class Meta:
        model = PartnerAgency
        fields = ["name", "email", "webhook_url", "webhook_secret", "active"]

    def clean_webhook_url(self):
        url = self.cleaned_data["webhook_url"]
        if url and not url.startswith("https://") and not webhook_policy().trusts(urlsplit(url).hostname or ""):
            raise ValidationError("Referrals hold personal data: the webhook address must start with https://.")
        # Looked up now for a clear error; what makes it safe is the check of the address connected to when sending.
        if url and (problem := resolved_problem(url, webhook_policy())):
            raise ValidationError(problem)
        return url

    def clean_webhook_secret(self):
        return self.cleaned_data["webhook_secret"] or self.instance.webhook_secret


class ReferralRuleForm(forms.ModelForm):
    class Meta:
        model = ReferralRule
        fields = ["name", "report_type", "condition", "agency", "shared_fields", "priority", "act_within_minutes",
                  "active"]
        widgets = {"condition": json_area(6), "shared_fields": json_area(3)}

    def clean_condition(self):
        return empty_as_list(self.cleaned_data["condition"])

    def clean(self):
        cleaned = super().clean()
        report_type, shared = cleaned.get("report_type"), cleaned.get("shared_fields")
        version = report_type.current_version if report_type else None
        if version and isinstance(shared, list):
            known = schema_fields(version.schema)
            if missing := [f for f in shared if isinstance(f, str) and f not in known]:
                self.add_error("shared_fields", f"Not in {version}: {', '.join(missing)}.")
        return cleaned


class GradingPolicyForm(forms.ModelForm):
    """A policy's grading must be one the type's current version can produce, or empty for the rest."""

    def clean(self):
        cleaned = super().clean()
        report_type, grading = cleaned.get("report_type"), cleaned.get("grading")
        allowed = grading_values(report_type.current_version) if report_type else []
        if grading and allowed and grading not in allowed:
            self.add_error("grading", f"One of {', '.join(allowed)}, or empty for any other grading.")
        return cleaned


class CirculationPolicyForm(GradingPolicyForm):
    class Meta:
        model = CirculationPolicy
        fields = ["report_type", "grading", "reach"]


class ReviewPolicyForm(GradingPolicyForm):
    class Meta:
        model = ReviewPolicy
        fields = ["report_type", "grading", "within_minutes"]
