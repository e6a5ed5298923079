from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.contrib.auth import get_user_model

from tests.factories import add_member, make_person, make_rotation, make_unit
from units.models import ContactMethod, FixedRule, Membership

LAUNCH = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tasks_at_once(eager_tasks):
    """Callout tests run their tasks at once, in process."""


@pytest.fixture
def clock():
    with time_machine.travel(LAUNCH, tick=False) as traveller:
        yield traveller


def reachable_person(name: str, n: int):
    person = make_person(name)
    ContactMethod.objects.create(person=person, kind="push", address=f"{name}'s phone", verified_at=LAUNCH)
    ContactMethod.objects.create(person=person, kind="voice", address=f"+4479111{n:05d}", delay_minutes=1,
                                 verified_at=LAUNCH)
    return person


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", password="x" * 12)


@pytest.fixture
def k9(db, clock):
    """A unit with three on primary (one at a time from a rotation plus fixed members) and two on secondary."""
    unit = make_unit("k9", name="Canine Unit")
    primary, secondary = unit.tiers.all()
    people = {name: reachable_person(name, i) for i, name in enumerate(["Ann", "Ben", "Cat", "Dan", "Eve"])}
    for name in ("Ann", "Ben", "Cat"):
        FixedRule.objects.create(tier=primary, person=people[name])
        add_member(unit, people[name])
    add_member(unit, people["Dan"], Membership.Role.TEAM_LEADER)
    add_member(unit, people["Eve"])
    make_rotation(secondary, [people["Dan"]], start=date(2026, 1, 5), handoff=time(9))
    FixedRule.objects.create(tier=secondary, person=people["Eve"])
    unit.people = people
    return unit
