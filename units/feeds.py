"""iCalendar (RFC 5545) feeds of on-call shifts, per person and per unit.

The feed token in the URL is the only secret, so the views need no login; an inactive person or unit
gets a 404, so a leaver's subscription stops working.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from icalendar import Calendar, Event, vDuration

from units.models import Person, Unit
from units.selectors import Shift, person_shifts, unit_shifts

FEED_DAYS_BEHIND = 7
FEED_DAYS_AHEAD = 60
PRODID = "-//Muster//On-call shifts//EN"
REFRESH = timedelta(hours=1)


@require_safe
def person_feed(request, token: str) -> HttpResponse:
    person = get_object_or_404(Person, feed_token=token, active=True)
    shifts = person_shifts(person, *feed_window())
    return _response(f"On call: {person}", shifts, lambda shift: f"On call: {shift.unit} – {shift.tier.name}")


@require_safe
def unit_feed(request, token: str) -> HttpResponse:
    unit = get_object_or_404(Unit, feed_token=token, active=True)
    shifts = unit_shifts(unit, *feed_window())
    return _response(f"On call: {unit}", shifts, lambda shift: f"{shift.tier.name}: {shift.person}")


def feed_url(obj: Person | Unit) -> str:
    """The absolute address of a person's or a unit's feed, to paste into a calendar app."""
    if isinstance(obj, Person):
        return settings.SITE_URL + reverse("units:person_feed", args=[obj.feed_token])
    if isinstance(obj, Unit):
        return settings.SITE_URL + reverse("units:unit_feed", args=[obj.feed_token])
    raise TypeError(f"No feed for {type(obj).__name__}")


def feed_window() -> tuple[datetime, datetime]:
    # Whole UTC days, so every refresh on one day returns the same events, even those cut at the edges.
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=FEED_DAYS_BEHIND), today + timedelta(days=FEED_DAYS_AHEAD + 1)


def _event(shift: Shift, summary: str, stamp: datetime) -> Event:
    start = shift.start.astimezone(UTC)
    event = Event()
    # Stable across refreshes, so calendar apps update an event instead of adding a copy.
    event.add("uid", f"shift-{shift.person.pk}-{shift.tier.pk}-{start:%Y%m%dT%H%M%SZ}@{_host()}")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", "\n".join(reason.text for reason in shift.reasons))
    # Being on call is not being busy: the shift must not block meetings in the person's calendar.
    event.add("transp", "TRANSPARENT")
    return event


def _response(name: str, shifts: list[Shift], summarize: Callable[[Shift], str]) -> HttpResponse:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    stamp = timezone.now().astimezone(UTC).replace(microsecond=0)
    for shift in shifts:
        calendar.add_component(_event(shift, summarize(shift), stamp))
    return HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "muster"
