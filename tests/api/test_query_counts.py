"""Every list endpoint answers in the same number of queries for 5 rows as for 50."""

import uuid
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callouts.models import Callout
from callouts.services.callouts import callout_respond
from reports.models import Area, Circulation, CirculationRecipient, Report, ReportType
from reports.selectors import visible_reports
from reports.services.filing import Place, report_draft_save, report_submit
from tests.api.test_callouts_api import launch_for, role_user
from tests.factories import add_member, make_person, make_rotation, make_unit
from units.models import FixedRule, Membership, Override, Unavailability, Unit


def queries(client, url: str, rows: int, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    shown = len(body["results"]) if "results" in body else sum(len(tier["people"]) for tier in body["tiers"])
    assert shown >= rows
    return len(captured)


def constant(client, url: str, grow, **params) -> tuple[int, int]:
    grow(5)
    few = queries(client, url, 5, **params)
    grow(50)
    return few, queries(client, url, 50, **params)


@pytest.fixture
def callouts_of(unit_a, member_a):
    operator = role_user("Operators")

    def grow(total: int):
        for n in range(Callout.objects.count(), total):
            callout = launch_for(unit_a, member_a, make_person(), actor=operator, message=f"Callout {n}")
            if n % 2:
                callout_respond(recipient=callout.recipients.first(), response="accept", channel="sms", eta_minutes=n)
    return grow


@pytest.mark.parametrize("role", ["responder", "supervisor", "operator"])
def test_the_callout_list(api_client, member_a, unit_a, callouts_of, role):
    user = {"responder": lambda: member_a.user, "supervisor": lambda: role_user("Supervisors", unit=unit_a),
            "operator": lambda: role_user("Operators")}[role]()

    few, many = constant(api_client(user), "/api/v1/callouts/", callouts_of)

    assert few == many


def test_my_shifts_across_many_units(api_client, member_a):
    colleague = make_person("Colin Colleague")

    def grow(total: int):
        for n in range(member_a.memberships.count(), total):
            unit = make_unit(f"s{n}")
            add_member(unit, member_a)
            make_rotation(unit.tiers.get(position=1), [member_a, colleague], length=1, unit="days",
                          start=date(2026, 1, 1), handoff=time(9))
            FixedRule.objects.create(tier=unit.tiers.get(position=2), person=member_a)

    few, many = constant(api_client(member_a.user), "/api/v1/shifts/", grow, page_size=200)

    assert few == many


def test_the_unit_list(api_client):
    def grow(total: int):
        for n in range(Unit.objects.count(), total):
            make_unit(f"u{n}")

    few, many = constant(api_client(role_user("Operators")), "/api/v1/units/", grow)

    assert few == many


def test_my_unavailability(api_client, member_a):
    start = timezone.now()

    def grow(total: int):
        for n in range(member_a.unavailabilities.count(), total):
            Unavailability.objects.create(person=member_a, starts_at=start + timedelta(days=n),
                                          ends_at=start + timedelta(days=n, hours=8))

    few, many = constant(api_client(member_a.user), "/api/v1/unavailability/", grow)

    assert few == many


def test_who_is_on_call(api_client, unit_a):
    primary, secondary = unit_a.tiers.all()
    now = timezone.now()

    def grow(total: int):
        for n in range(unit_a.memberships.count(), total):
            person = make_person()
            add_member(unit_a, person, Membership.Role.TEAM_LEADER if n % 3 == 0 else Membership.Role.MEMBER)
            if n % 3 == 1:
                make_rotation(primary, [person], start=date(2026, 1, 5))
            elif n % 3 == 2:
                Override.objects.create(tier=secondary, person=person, starts_at=now - timedelta(hours=1),
                                        ends_at=now + timedelta(hours=1), reason="Cover")
        FixedRule.objects.get_or_create(tier=secondary, role=Membership.Role.TEAM_LEADER)

    few, many = constant(api_client(role_user("Operators")), f"/api/v1/units/{unit_a.pk}/oncall/", grow)

    assert few == many


MISSING_CHILD = {
    "name": "Amy Clarke", "age": 9, "description": "Slim, long brown hair", "last_seen_place": "Brixton station",
    "last_seen_at": "2026-06-03T08:40:00+01:00", "grading": "high", "rationale": "Nine years old and alone",
}


@pytest.mark.parametrize("role", ["author", "circulated", "supervisor"])
def test_the_report_list(api_client, member_a, member_b, unit_a, role):
    """Reports by several officers in several areas, drafts among them, some circulated to member A."""
    supervisor = make_person("Sam Supervisor")
    add_member(unit_a, supervisor)
    areas = [Area.objects.create(code=f"beat{n}", name=f"Beat {n}", supervisor_unit=unit_a) for n in range(3)]
    missing_person = ReportType.objects.get(slug="missing-person")
    viewer = {"author": member_a, "circulated": member_b, "supervisor": supervisor}[role]

    def grow(total: int):
        while visible_reports(viewer.user).count() < total:
            n = Report.objects.count()
            author = member_a if n % 4 else make_person()
            kwargs = {"report_id": uuid.uuid4(), "report_type": missing_person, "actor": author.user,
                      "data": {**MISSING_CHILD, "age": n % 18}, "place": Place(area=areas[n % 3] if n % 5 else None),
                      "captured_at": None}
            report = (report_draft_save if n % 7 == 0 and author == member_a else report_submit)(**kwargs)[0]
            if report.state == Report.State.SUBMITTED:
                circulation = Circulation.objects.create(report=report, version=1, reach="area",
                                                         summary=report.summary, created_at=timezone.now())
                CirculationRecipient.objects.create(circulation=circulation, person=member_b, reason="patrol")

    few, many = constant(api_client(viewer.user), "/api/v1/reports/", grow)

    assert few == many
