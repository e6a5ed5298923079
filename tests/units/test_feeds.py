from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from icalendar import Calendar

from tests.factories import make_person, make_rotation, make_unit
from units.feeds import FEED_DAYS_AHEAD, FEED_DAYS_BEHIND, feed_url, feed_window

# A Wednesday in winter, when London is on UTC: the feed runs from 7 Jan 00:00 to 16 Mar 00:00 UTC.
NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def person_url(person) -> str:
    return f"/feeds/person/{person.feed_token}.ics"


def unit_url(unit) -> str:
    return f"/feeds/unit/{unit.feed_token}.ics"


def fetch(client, url: str) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def windows(calendar: Calendar) -> list[tuple[datetime, datetime]]:
    return [(event.start, event.end) for event in calendar.walk("VEVENT")]


@pytest.fixture
def tsu(db):
    return make_unit("tsu", name="Tactical Support")


@pytest.fixture
def alice(db):
    return make_person("Alice Smith", rank="PC")


@pytest.fixture
def bob(db):
    return make_person("Bob Jones", rank="Sgt")


@pytest.fixture
def weekly(tsu, alice, bob):
    """Alice and Bob take turns on Tactical Support's primary list, a week each from Monday 5 Jan 09:00."""
    return make_rotation(tsu.tiers.get(position=1), [alice, bob], start=date(2026, 1, 5), name="Weekly")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_window_is_whole_utc_days_from_a_week_back_to_sixty_days_ahead(clock):
    start, end = feed_window()

    assert start == datetime(2026, 1, 7, tzinfo=UTC) == NOW.replace(hour=0) - timedelta(days=FEED_DAYS_BEHIND)
    assert end == datetime(2026, 3, 16, tzinfo=UTC)
    assert end - NOW > timedelta(days=FEED_DAYS_AHEAD)


def test_person_feed_has_exactly_their_weeks_on_the_rotation(client, weekly, alice, clock):
    calendar = fetch(client, person_url(alice))

    assert windows(calendar) == [
        (utc(1, 7, hour=0), utc(1, 12)),  # cut at the start of the window
        (utc(1, 19), utc(1, 26)),
        (utc(2, 2), utc(2, 9)),
        (utc(2, 16), utc(2, 23)),
        (utc(3, 2), utc(3, 9)),
    ]


def test_person_feed_does_not_show_another_persons_shifts(client, weekly, bob, clock):
    calendar = fetch(client, person_url(bob))

    assert windows(calendar) == [
        (utc(1, 12), utc(1, 19)),
        (utc(1, 26), utc(2, 2)),
        (utc(2, 9), utc(2, 16)),
        (utc(2, 23), utc(3, 2)),
        (utc(3, 9), utc(3, 16, hour=0)),  # cut at the end of the window
    ]


def test_person_feed_events_name_unit_and_list_and_give_the_reason(client, weekly, alice, clock):
    event = fetch(client, person_url(alice)).walk("VEVENT")[1]

    assert event["SUMMARY"] == "On call: Tactical Support – Primary"
    assert event["DESCRIPTION"] == "Weekly rotation"


def test_unit_feed_has_one_event_per_person_per_shift(client, tsu, weekly, clock):
    calendar = fetch(client, unit_url(tsu))

    summaries = [event["SUMMARY"] for event in calendar.walk("VEVENT")]
    assert summaries == ["Primary: PC Alice Smith", "Primary: Sgt Bob Jones"] * 5
    assert windows(calendar)[:3] == [
        (utc(1, 7, hour=0), utc(1, 12)),
        (utc(1, 12), utc(1, 19)),
        (utc(1, 19), utc(1, 26)),
    ]


def test_unit_feed_leaves_out_other_units(client, tsu, weekly, clock):
    other = make_unit("k9", name="Dog Section")
    make_rotation(other.tiers.get(position=1), [make_person("Carol Dog Handler")], name="Dogs")

    calendar = fetch(client, unit_url(other))

    assert [event["SUMMARY"] for event in calendar.walk("VEVENT")] == ["Primary: Carol Dog Handler"]


def test_every_event_has_uid_dtstamp_dtstart_and_dtend_in_utc(client, tsu, weekly, clock):
    calendar = fetch(client, unit_url(tsu))

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar["X-WR-CALNAME"] == "On call: Tactical Support"
    events = calendar.walk("VEVENT")
    assert events
    for event in events:
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            assert name in event
        assert event["DTSTART"].to_ical().endswith(b"Z") and event["DTEND"].to_ical().endswith(b"Z")
    assert len({event["UID"] for event in events}) == len(events)


def test_summer_handoffs_are_given_in_utc(client, tsu, alice, bob):
    make_rotation(tsu.tiers.get(position=1), [alice, bob], start=date(2026, 6, 1))

    with time_machine.travel(datetime(2026, 6, 10, tzinfo=UTC), tick=False):
        response = client.get(person_url(alice))

    # 09:00 in London is 08:00 UTC in June.
    assert b"DTEND:20260608T080000Z" in response.content
    assert b"DTSTART:20260615T080000Z" in response.content


def test_refreshed_feed_keeps_each_shifts_uid(client, weekly, alice, clock):
    first = {event["UID"]: event.start for event in fetch(client, person_url(alice)).walk("VEVENT")}
    clock.shift(timedelta(days=1))

    second = {event["UID"]: event.start for event in fetch(client, person_url(alice)).walk("VEVENT")}

    assert first.keys() & second.keys() >= {uid for uid, start in first.items() if start >= utc(1, 19)}
    assert all(second[uid] == start for uid, start in first.items() if uid in second)


def test_response_is_text_calendar_with_crlf_lines_folded_at_75_octets(client, tsu, weekly, clock):
    tsu.name = "Tactical Support, Public Order and Protest Removal – Mounted and Marine Detachment"
    tsu.save()

    content = client.get(unit_url(tsu)).content

    assert content.endswith(b"\r\n")
    lines = content.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # the long name really was folded


def test_response_content_type(client, tsu, weekly, clock):
    response = client.get(unit_url(tsu))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"


def test_unknown_token_is_not_found(client, tsu, alice):
    assert client.get("/feeds/person/not-a-token.ics").status_code == 404
    assert client.get("/feeds/unit/not-a-token.ics").status_code == 404


def test_unit_token_does_not_open_a_person_feed(client, tsu):
    assert client.get(f"/feeds/person/{tsu.feed_token}.ics").status_code == 404


def test_inactive_person_and_unit_feeds_stop_working(client, tsu, alice):
    alice.active = False
    alice.save()
    tsu.active = False
    tsu.save()

    assert client.get(person_url(alice)).status_code == 404
    assert client.get(unit_url(tsu)).status_code == 404


def test_feed_refuses_writes(client, tsu):
    assert client.post(unit_url(tsu)).status_code == 405


def test_feed_url_is_absolute_and_serves_the_feed(client, settings, tsu, alice, clock):
    settings.SITE_URL = "https://muster.example.org"

    url = feed_url(alice)

    assert url == f"https://muster.example.org/feeds/person/{alice.feed_token}.ics"
    assert client.get(url.removeprefix(settings.SITE_URL)).status_code == 200
    assert feed_url(tsu) == f"https://muster.example.org/feeds/unit/{tsu.feed_token}.ics"


def test_issuing_a_new_feed_address_retires_the_old_one(client, db):
    from tests.factories import login_verified
    from units.models import Person

    person = make_person("Leaky Link")
    old = person.feed_token
    assert client.get(f"/feeds/person/{old}.ics").status_code == 200
    admin_user = get_user_model().objects.create_superuser("chief")
    login_verified(client, admin_user)
    response = client.post("/admin/units/person/", {"action": "reset_feed_tokens", "_selected_action": [person.pk]})
    assert response.status_code == 302
    new = Person.objects.get(pk=person.pk).feed_token
    assert new != old
    assert client.get(f"/feeds/person/{old}.ics").status_code == 404
    assert client.get(f"/feeds/person/{new}.ics").status_code == 200
