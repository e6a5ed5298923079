"""The parts that only a real stack exercises: PostgreSQL, Redis and a Celery worker in its own process."""

import io
import time
from datetime import date, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction

from callouts.models import Heartbeat
from callouts.tasks import heartbeat
from tests.factories import make_person, make_rotation, make_unit
from units.models import Person, RotationParticipant
from units.schedule import resolve_callout_lists

pytestmark = pytest.mark.services

LONDON = ZoneInfo("Europe/London")


def wait_for(condition, seconds: float = 20.0) -> bool:
    """Poll another process's effect until it shows or the deadline passes."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_heartbeat_enqueued_on_commit_is_run_by_the_worker(celery_worker, transactional_db):
    assert not Heartbeat.objects.exists()

    with transaction.atomic():
        transaction.on_commit(lambda: heartbeat.delay())

    assert wait_for(Heartbeat.objects.filter(name="worker").exists), "the worker wrote no heartbeat within 20 s"


def test_migrations_create_the_role_groups_on_postgresql(db):
    assert connection.vendor == "postgresql"
    roles = {"Administrators", "Operators", "Supervisors", "Responders"}
    assert roles <= set(Group.objects.values_list("name", flat=True))
    assert Group.objects.get(name="Supervisors").permissions.filter(codename="change_override").exists()


def test_weekly_rotation_resolves_in_wall_clock_time_on_postgresql(db):
    unit = make_unit(tz="Europe/London")
    primary = unit.tiers.get(position=1)
    people = [make_person(f"Officer {name}") for name in ("A", "B", "C")]
    make_rotation(primary, people, start=date(2026, 1, 5), handoff=clock(9, 0))

    def on_primary(local: datetime) -> list[Person]:
        return resolve_callout_lists(unit, local.replace(tzinfo=LONDON))[0].people

    assert on_primary(datetime(2026, 1, 12, 9, 0)) == [people[1]]
    # Twelve weeks on, British Summer Time has begun: the handoff stays at 09:00 on the wall clock.
    assert on_primary(datetime(2026, 3, 30, 8, 59)) == [people[2]]
    assert on_primary(datetime(2026, 3, 30, 9, 0)) == [people[0]]


def test_seed_demo_runs_twice_on_postgresql_without_duplicates(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    counts = Person.objects.count(), RotationParticipant.objects.count()

    call_command("seed_demo", stdout=io.StringIO())

    assert (Person.objects.count(), RotationParticipant.objects.count()) == counts
