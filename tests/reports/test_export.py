"""CSV export from the report admin: only for roles with the export permission, only what the exporter may
see, audited with every report's id, and no cell a spreadsheet would run as a formula."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client

from reports.models import Area
from reports.services.export import csv_cell
from tests.factories import login_verified
from tests.reports.conftest import reachable

EXPORT = "/admin/reports/report/export/"
CHANGELIST = "/admin/reports/report/"


def client_of(user, *, staff: bool = True) -> Client:
    user.is_staff = staff
    user.save(update_fields=["is_staff"])
    return login_verified(Client(), user)


def rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def exports() -> list[LogEntry]:
    return [e for e in LogEntry.objects.order_by("id") if (e.additional_data or {}).get("event") == "reports_exported"]


@pytest.fixture
def administrator(db):
    return reachable("Ada", "Administrators").user


@pytest.fixture
def filed(beats, officer, simple_type, file_report):
    outside = Area.objects.create(code="x", name="Elsewhere")
    mine, _ = file_report(officer, simple_type, {"name": "Amy", "age": 9, "grading": "high"}, area=beats["n1"])
    mine.promoted = {"name": "Amy", "age": 9}
    mine.save(update_fields=["promoted"])
    other, _ = file_report(reachable("Uma"), simple_type, {"name": "Ben", "grading": "low"}, area=outside)
    return {"mine": mine, "other": other}


def test_administrator_exports_every_report_with_its_promoted_fields(administrator, filed):
    response = client_of(administrator).get(EXPORT)

    assert response.status_code == 200
    assert 'attachment; filename="reports-' in response["Content-Disposition"]
    by_id = {row["id"]: row for row in rows(response)}
    assert set(by_id) == {str(filed["mine"].pk), str(filed["other"].pk)}
    amy = by_id[str(filed["mine"].pk)]
    assert amy["type"] == "simple" and amy["version"] == "1" and amy["state"] == "submitted"
    assert amy["area"] == "n1" and amy["author"] == "Olive" and amy["grading"] == "high"
    assert amy["submitted_at"].startswith("2026-06-03T10:00")
    assert amy["summary"] == "Amy, 9" and amy["name"] == "Amy" and amy["age"] == "9"


def test_an_export_is_audited_with_who_and_every_report_id(administrator, filed):
    client_of(administrator).get(EXPORT)

    [entry] = exports()
    assert entry.actor == administrator
    assert entry.additional_data["count"] == 2
    assert set(entry.additional_data["ids"]) == {str(filed["mine"].pk), str(filed["other"].pk)}


def test_a_supervisor_exports_only_the_reports_of_their_areas(beats, filed):
    response = client_of(beats["people"]["Sam"].user).get(EXPORT)

    assert [row["id"] for row in rows(response)] == [str(filed["mine"].pk)]
    assert exports()[0].additional_data["ids"] == [str(filed["mine"].pk)]


def test_export_keeps_the_lists_filters(administrator, filed):
    response = client_of(administrator).get(EXPORT + "?grading=low")

    assert [row["id"] for row in rows(response)] == [str(filed["other"].pk)]


def test_export_with_an_unknown_filter_is_no_error(administrator, filed):
    response = client_of(administrator).get(EXPORT + "?no_such_field=1")

    assert response.status_code == 302
    assert exports() == []


def test_an_operator_is_refused_the_export(beats, filed):
    operator = reachable("Otto", "Operators").user

    response = client_of(operator).get(EXPORT)

    assert response.status_code == 403
    assert exports() == []


def test_a_responder_never_reaches_the_export(officer, filed):
    response = client_of(officer.user, staff=False).get(EXPORT)

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert exports() == []


def test_someone_who_may_read_but_not_export_has_no_export_action_or_link(officer, filed):
    reader = reachable("Reed").user
    reader.user_permissions.add(*Group.objects.get(name="Supervisors").permissions.filter(codename="view_report"))
    client = client_of(reader)

    page = client.get(CHANGELIST)
    refused = client.get(EXPORT)
    posted = client.post(CHANGELIST, {"action": "export_selected", "_selected_action": [filed["mine"].pk]})

    assert page.status_code == 200
    assert "export_selected" not in page.content.decode() and 'id="export-csv"' not in page.content.decode()
    assert refused.status_code == 403
    assert not posted.get("Content-Type", "").startswith("text/csv")
    assert exports() == []


def test_the_export_action_exports_the_selected_reports(administrator, filed):
    client = client_of(administrator)
    assert 'id="export-csv"' in client.get(CHANGELIST).content.decode()

    response = client.post(CHANGELIST, {"action": "export_selected", "_selected_action": [filed["other"].pk]})

    assert [row["id"] for row in rows(response)] == [str(filed["other"].pk)]
    assert exports()[0].additional_data["count"] == 1


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(administrator, beats, simple_type, file_report):
    author = reachable("=cmd|' /C calc'!A0")
    report, _ = file_report(author, simple_type, {"name": "+SUM(1,2)", "grading": "low"}, area=beats["n1"])
    report.summary = '=HYPERLINK("http://evil.example","click")'
    report.promoted = {"name": "@SUM(1)", "nickname": "-2+3", "age": -1}
    report.save(update_fields=["summary", "promoted"])

    [row] = rows(client_of(administrator).get(EXPORT))

    assert row["summary"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row["author"] == "'=cmd|' /C calc'!A0"
    assert row["name"] == "'@SUM(1)" and row["nickname"] == "'-2+3"
    assert row["age"] == "-1"  # a number is no formula


@pytest.mark.parametrize("value, cell", [
    ("plain", "plain"), ("\tTAB", "'\tTAB"), (["a", "=b"], "a; =b"), (["=a"], "'=a"), (None, ""), (True, "yes"),
    (12, 12),
])
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell
