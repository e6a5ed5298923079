"""Roster import page in the admin: upload a CSV, check it with a dry run, then import the same content."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from units.models import Person
from units.roster import COLUMNS, Outcome, roster_import

MAX_UPLOAD_BYTES = 1_000_000
TEMPLATE_CSV = settings.BASE_DIR / "docs" / "roster-template.csv"


class RosterImportForm(forms.Form):
    csv_file = forms.FileField(label="Roster CSV", required=False,
                               help_text="Comma-separated, UTF-8, one person per row, header on the first row.")
    # Carries the checked content from the dry run to the real import, so what is imported is what was checked.
    csv_text = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"hidden": True}))
    dry_run = forms.BooleanField(label="Dry run: check the file and change nothing", initial=True, required=False)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("csv_file")
        if upload:
            cleaned["csv_text"] = self._read(upload)
        elif not cleaned.get("csv_text"):
            raise ValidationError("Choose a CSV file to import.")
        return cleaned

    def _read(self, upload) -> str:
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text; in Excel, save it as “CSV UTF-8”.") from None


def roster_import_view(request):
    result = confirm_form = None
    form = RosterImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        csv_text = form.cleaned_data["csv_text"]
        result = roster_import(csv_text=csv_text, dry_run=form.cleaned_data["dry_run"], actor=request.user)
        if result.ok and result.dry_run:
            confirm_form = RosterImportForm(initial={"csv_text": csv_text, "dry_run": False})
        if result.saved:
            messages.success(request, _summary(result))
        form = RosterImportForm()
    context = {
        **admin.site.each_context(request),
        "title": "Import roster",
        "opts": Person._meta,
        "form": form,
        "confirm_form": confirm_form,
        "result": result,
        "columns": COLUMNS,
    }
    return TemplateResponse(request, "admin/units/roster_import.html", context)


def roster_template_view(request):
    return FileResponse(TEMPLATE_CSV.open("rb"), as_attachment=True, filename="roster-template.csv",
                        content_type="text/csv")


def roster_urls(admin_site) -> list[URLPattern]:
    """URLs to list in the admin site's get_urls, before its catch-all pattern."""
    guarded = permission_required("units.add_person", raise_exception=True)
    return [
        path("units/roster-import/", admin_site.admin_view(guarded(roster_import_view)),
             name="units_roster_import"),
        path("units/roster-import/template.csv", admin_site.admin_view(guarded(roster_template_view)),
             name="units_roster_template"),
    ]


def _summary(result) -> str:
    return (f"Roster imported: {result.count(Outcome.CREATED)} created, {result.count(Outcome.UPDATED)} updated, "
            f"{result.count(Outcome.UNCHANGED)} unchanged.")
