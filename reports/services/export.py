"""Reports as CSV for those allowed to export them; every export is audited with the reports in it."""

import csv
import io
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from reports.models import Report
from units.audit import audit_event
from units.spreadsheet import csv_cell

EXPORT_PERMISSION = "reports.export_report"
FIXED_COLUMNS = ["id", "type", "version", "state", "submitted_at", "area", "author", "grading", "summary"]
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


def reports_export(*, reports: QuerySet[Report], actor) -> str:
    """The reports as CSV, with an audit entry naming every report in it."""
    if not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Exporting reports needs the export permission.")
    rows = list(reports.select_related("report_type", "area", "author").order_by("-submitted_at", "id"))
    ids = [str(report.id) for report in rows]
    audit_event(event="reports_exported", target=None, target_model=Report, actor=actor,
                data={"count": len(ids), "ids": ids})
    return reports_csv(rows)
