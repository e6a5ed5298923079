"""What the report admin does besides showing rows: publishing type versions and exporting reports as CSV.

The admin classes in ``reports/admin.py`` stay thin and call these.
"""

import csv
import io
import json
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from reports.admin_forms import FROZEN_FIELDS, version_problems
from reports.models import Report, ReportType, ReportTypeVersion
from units.audit import acting, audit_event

EXPORT_PERMISSION = "reports.export_report"
FIXED_COLUMNS = ["id", "type", "version", "state", "submitted_at", "area", "author", "grading", "summary"]
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class VersionNotPublishable(Exception):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems.items()))
        self.problems = problems


def type_version_publish(*, version: ReportTypeVersion, actor) -> ReportTypeVersion:
    """Publish a draft version: from now on phones are given it and it never changes."""
    with transaction.atomic(), acting(actor):
        version = ReportTypeVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_published:
            return version
        if problems := version_problems(**{name: getattr(version, name) for name in FROZEN_FIELDS}):
            raise VersionNotPublishable(problems)
        version.published_at, version.published_by = timezone.now(), actor
        version.full_clean()
        version.save(update_fields=["published_at", "published_by"])
        audit_event(event="report_type_published", target=version, actor=actor,
                    data={"report_type": version.report_type.slug, "number": version.number})
    return version


def type_version_draft(*, report_type: ReportType, actor) -> ReportTypeVersion:
    """A new unpublished version, a copy of the latest, to edit and publish in place of it."""
    with transaction.atomic(), acting(actor):
        ReportType.objects.select_for_update().get(pk=report_type.pk)
        latest = report_type.versions.order_by("-number").first()
        number = (report_type.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        copied = {name: getattr(latest, name) for name in FROZEN_FIELDS} if latest else {
            "schema": {"type": "object", "properties": {}}, "promoted_fields": [], "grading_field": "",
            "summary_fields": [],
        }
        draft = ReportTypeVersion(report_type=report_type, number=number, **copied)
        draft.full_clean()
        draft.save()
    return draft


def csv_cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list):
        value = "; ".join(str(item) if not isinstance(item, dict) else json.dumps(item) for item in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def promoted_columns(reports: Iterable[Report]) -> list[str]:
    columns = []
    for report in reports:
        for name in report.promoted:
            if name not in columns and name not in FIXED_COLUMNS:
                columns.append(name)
    return columns


def reports_csv(reports: list[Report]) -> str:
    extra = promoted_columns(reports)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIXED_COLUMNS + extra)
    for report in reports:
        fixed = [str(report.id), report.report_type.slug, report.version, report.state,
                 report.submitted_at.isoformat() if report.submitted_at else "",
                 report.area.code if report.area else "", report.author.full_name, report.grading, report.summary]
        writer.writerow([csv_cell(v) for v in fixed] + [csv_cell(report.promoted.get(name)) for name in extra])
    return out.getvalue()


def reports_export(*, reports: QuerySet[Report], actor) -> HttpResponse:
    """The reports as a CSV download, with an audit entry naming every report in it."""
    if not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Exporting reports needs the export permission.")
    rows = list(reports.select_related("report_type", "area", "author").order_by("-submitted_at", "id"))
    ids = [str(report.id) for report in rows]
    audit_event(event="reports_exported", target=None, target_model=Report, actor=actor,
                data={"count": len(ids), "ids": ids})
    response = HttpResponse(reports_csv(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="reports-{stamp}.csv"'
    return response
