"""Notices: a message to a person about something other than a callout (a circulated report, an overdue
review), sent by the same delivery rows, sweep and channels as a callout's alerts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from callouts.clock import db_now
from callouts.models import Delivery
from callouts.services.alerts import dispatch_soon
from units.models import ContactMethod, Person

if TYPE_CHECKING:
    from reports.models import Report

# A phone call is kept for callouts, where a person must answer at once.
NOTICE_CHANNELS = (ContactMethod.Kind.PUSH, ContactMethod.Kind.SMS, ContactMethod.Kind.EMAIL)


@dataclass(frozen=True)
class LockScreen:
    """A notice as its push shows it, on a locked phone too: never a name, a description or any other content of
    the report (a report's type, grading and area are fine); the rest is for the unlocked app."""

    title: str
    body: str


def notify_people(*, people: Iterable[Person], topic: str, subject: str, body: str, lock_screen: LockScreen,
                  report: Report, report_version: int, now: datetime | None = None) -> list[Delivery]:
    """Queue a notice to each person by their own channels: push at once (with ``lock_screen``'s words), the
    others after their own delays (with ``subject`` and ``body``).

    ``report`` (and the version the text tells of) is what the notice carries content of: the admin shows the
    notice only to those who may see that report. Safe to call twice for one topic: a person's address gets a
    topic's notice once.
    """
    return notify_each(topics={person.pk: topic for person in people}, subject=subject, body=body,
                       lock_screen=lock_screen, report=report, report_version=report_version, now=now)


def notify_each(*, topics: dict[int, str], subject: str, body: str, lock_screen: LockScreen, report: Report,
                report_version: int, now: datetime | None = None) -> list[Delivery]:
    """``notify_people`` with a topic per person (by person id), in one query and one insert for them all."""
    now = now or db_now()
    methods = ContactMethod.objects.filter(person_id__in=topics, kind__in=NOTICE_CHANNELS, person__active=True)
    deliveries = []
    for method in methods:
        push = method.kind == ContactMethod.Kind.PUSH
        title, text = (lock_screen.title, lock_screen.body) if push else (subject, body)
        deliveries.append(Delivery(
            person_id=method.person_id, topic=topics[method.person_id], kind=Delivery.Kind.NOTICE, report=report,
            report_version=report_version, channel=method.kind, address=method.address, subject=title[:200],
            body=text, due_at=now if push else now + timedelta(minutes=method.delay_minutes)))
    created = Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    if created:
        transaction.on_commit(dispatch_soon)
    return created


def notices_stop(*, person: Person, topic: str) -> int:
    """The person has seen it: their notices on this topic not yet handed to a provider are cancelled."""
    return Delivery.objects.filter(person=person, topic=topic, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now())
