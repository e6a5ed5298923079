"""Audit of admin pages that show report content: who opened which page, when, from where, and which reports
(and which of their versions) it showed, as the report API's reads are audited.

A list page writes one ``reports_listed`` entry naming the reports on that page; an object page (its change
page or its history) writes one ``report_viewed`` entry. Each admin says, through ``shown_report``, which
report and version one of its rows shows, or None when the row shows none (a callout's own alert).
"""

from __future__ import annotations

from django.db.models import Model
from django.template.response import TemplateResponse

from reports.models import Report
from units.audit import audit_event


class ReportContentAudit:
    """Mixin for a ModelAdmin whose list or pages show report content. ``audit_via`` names the page in the
    entry, so the audit log tells a report's own page from a delivery that quoted it."""

    audit_via = ""

    def shown_report(self, obj: Model) -> tuple[Report | str, int] | None:
        """The report (or its id) and the version ``obj`` shows; None when it shows no report content."""
        raise NotImplementedError

    def listed_report(self, obj: Model) -> tuple[Report | str, int] | None:
        """What ``obj``'s row in the list shows, when that differs from its page."""
        return self.shown_report(obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = shown_context(request, response).get("cl")
        if changelist is not None:
            shown = unique(self.listed_report(obj) for obj in changelist.result_list)
            if shown:
                audit_event(event="reports_listed", target=None, target_model=Report, actor=request.user,
                            message=f"Reports listed in the admin ({self.audit_via})",
                            data={"reports": shown, "via": self.audit_via})
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self.audit_page(request, shown_context(request, response).get("original"))
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self.audit_page(request, shown_context(request, response).get("object"))
        return response

    def audit_page(self, request, obj: Model | None) -> None:
        shown = self.shown_report(obj) if obj is not None else None
        if shown is None:
            return
        report, version = shown
        if not isinstance(report, Report):
            report = Report.objects.get(pk=report)
        audit_event(event="report_viewed", target=report, actor=request.user,
                    message=f"Report viewed in the admin ({self.audit_via})",
                    data={"version": version, "via": self.audit_via, "object": str(obj.pk)})


def shown_context(request, response) -> dict:
    """The context of a page the admin rendered to be read (a GET answered 200), else nothing: a redirect, a
    refused request or an action's download shows no page."""
    if request.method != "GET" or response.status_code != 200 or not isinstance(response, TemplateResponse):
        return {}
    return response.context_data or {}


def unique(shown) -> list[list]:
    """``[[report id, version], ...]`` in the order shown, each pair once."""
    pairs = []
    for entry in shown:
        if entry is None:
            continue
        report, version = entry
        pair = [str(report.pk if isinstance(report, Report) else report), version]
        if pair not in pairs:
            pairs.append(pair)
    return pairs
