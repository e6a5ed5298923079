"""Report fixtures: a sector of two beats with patrol and supervisor rotas, an officer, a simple report type,
and ``file_report`` that writes a submitted report straight to the database (no filing service), so the
circulation, referral and review tests do not depend on the filing code.

    def test_something(beats, officer, simple_type, file_report, clock):
        report, version = file_report(officer, simple_type, {"name": "Amy", "age": 9, "grading": "high"},
                                      area=beats["n1"])
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group

from reports.models import Area, Report, ReportType, ReportTypeVersion, ReportVersion
from reports.services.filing import summary
from tests.factories import add_member, make_person, make_unit
from units.models import ContactMethod, FixedRule, Membership

NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)

SIMPLE_SCHEMA = {
    "type": "object",
    "required": ["name", "grading"],
    "properties": {
        "name": {"type": "string", "title": "Name", "minLength": 1},
        "age": {"type": "integer", "title": "Age", "minimum": 0, "maximum": 130},
        "grading": {"type": "string", "title": "Risk grading", "enum": ["none", "low", "medium", "high"]},
        "description": {"type": "string", "title": "Description"},
    },
    "additionalProperties": False,
}


@pytest.fixture(autouse=True)
def tasks_at_once(eager_tasks):
    """Report tests run their tasks at once, in process."""


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def reachable(name: str, group: str = "Responders"):
    person = make_person(name)
    person.user.groups.add(Group.objects.get(name=group))
    ContactMethod.objects.create(person=person, kind="push", address=f"{name}'s phone", verified_at=NOW)
    ContactMethod.objects.create(person=person, kind="email", address=f"{name.lower()}@police.example",
                                 delay_minutes=2, verified_at=NOW)
    return person


@pytest.fixture
def beats(db):
    """Sector N with beats n1 and n2. On duty now: Pat on n1, Quinn on n2, Sam supervising the sector;
    Rory patrols n1 but is only on its secondary list (not on duty)."""
    people = {name: reachable(name) for name in ("Pat", "Quinn", "Rory")}
    people["Sam"] = reachable("Sam", "Supervisors")
    supervisors = make_unit("sup-n", name="Sector N supervisors")
    add_member(supervisors, people["Sam"], Membership.Role.TEAM_LEADER)
    FixedRule.objects.create(tier=supervisors.tiers.get(position=1), person=people["Sam"])
    sector = Area.objects.create(code="n", name="Sector N", kind=Area.Kind.SECTOR, supervisor_unit=supervisors)
    areas = {"n": sector}
    for code, patrol in (("n1", "Pat"), ("n2", "Quinn")):
        unit = make_unit(f"patrol-{code}", name=f"Patrol {code}")
        add_member(unit, people[patrol])
        FixedRule.objects.create(tier=unit.tiers.get(position=1), person=people[patrol])
        areas[code] = Area.objects.create(code=code, name=f"Beat {code}", parent=sector, patrol_unit=unit,
                                          supervisor_unit=supervisors)
    add_member(areas["n1"].patrol_unit, people["Rory"])
    FixedRule.objects.create(tier=areas["n1"].patrol_unit.tiers.get(position=2), person=people["Rory"])
    areas["people"] = people
    return areas


@pytest.fixture
def officer(db):
    return reachable("Olive")


@pytest.fixture
def simple_type(db):
    report_type = ReportType.objects.create(slug="simple", name="Simple report")
    ReportTypeVersion.objects.create(report_type=report_type, number=1, schema=SIMPLE_SCHEMA,
                                     promoted_fields=["name", "age"], grading_field="grading",
                                     summary_fields=["name", "age"], published_at=NOW)
    return report_type


@pytest.fixture
def file_report(db):
    def make(author, report_type, data: dict, *, area=None, at: datetime | None = None):
        at = at or NOW
        type_version = report_type.current_version
        grading = data.get(type_version.grading_field, "") if type_version.grading_field else ""
        report = Report.objects.create(
            report_type=report_type, type_version=type_version, author=author, state=Report.State.SUBMITTED,
            data=data, grading=grading, summary=summary(data, type_version.summary_fields),
            area=area, submitted_at=at, version=1,
        )
        version = ReportVersion.objects.create(report=report, number=1, type_version=type_version, data=data,
                                               grading=grading, area=area, author=author.user, created_at=at)
        return report, version

    return make
