"""The on-call view, the schedule preview, the iCalendar feeds and the resolver agree for every demo unit."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from icalendar import Calendar

from reports.management.commands.seed_reports_demo import UNITS as REPORT_UNITS
from tests.factories import login_verified
from units.models import Unit
from units.schedule import resolve_callout_lists

NOW = datetime(2026, 3, 26, 13, 17, tzinfo=UTC)  # the Thursday before British Summer Time begins


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", verbosity=0)
        yield


def resolver_names(unit, at):
    return [[str(p) for p in tier.people] for tier in resolve_callout_lists(unit, at)]


def feed_names(events, at):
    """Per list name, who the unit feed shows on call at ``at``."""
    on = {}
    for event in events:
        if event.decoded("dtstart") <= at < event.decoded("dtend"):
            tier, person = str(event.get("summary")).split(": ", 1)
            on.setdefault(tier, set()).add(person)
    return on


def test_every_view_of_the_schedule_agrees_with_the_resolver(demo, client):
    login_verified(client, get_user_model().objects.create_superuser("checker"))
    units = list(Unit.objects.filter(active=True))
    assert len(units) == 19 + len(REPORT_UNITS)
    with time_machine.travel(NOW, tick=False):
        rows = {row.unit.id: row for row in client.get("/admin/units/unit/on-call/").context["rows"]}
        for unit in units:
            expected = resolver_names(unit, NOW)
            row = rows[unit.id]
            assert [[str(p) for p in row.primary.people], [str(p) for p in row.secondary.people]] == expected[:2]

            segments = client.get(f"/admin/units/unit/{unit.id}/schedule/").context["segments"]
            events = Calendar.from_ical(client.get(f"/feeds/unit/{unit.feed_token}.ics").content).walk("VEVENT")
            assert segments[-1].end - segments[0].start == timedelta(days=14)
            assert len(segments) > 1 and events
            for segment in segments:
                for probe in (segment.start, segment.end - timedelta(seconds=1)):
                    expected = resolver_names(unit, probe)
                    assert [[str(p) for p in tier.people] for tier in segment.tiers] == expected
                    shown = feed_names(events, probe)
                    for tier, names in zip(unit.tiers.all(), expected, strict=True):
                        assert shown.get(tier.name, set()) == set(names), (unit, tier, probe)
