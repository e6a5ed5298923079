"""The audit log as an administrator reads it: events by name with their message, cancel told from close, a
filter by event, and who, when and from where on every row."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from callouts.services.callouts import (
    callout_cancel,
    callout_close,
    callout_escalate_now,
    callout_launch,
    callout_send_update,
)
from tests.factories import add_member, login_verified, make_person, make_unit
from units.audit import acting
from units.models import ContactMethod, FixedRule

LIST = "/admin/auditlog/logentry/"
AT = datetime(2026, 6, 3, 14, 5, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tasks_at_once(eager_tasks):
    """Alerts go when a launch commits, as with a worker running."""


@pytest.fixture
def reader(db):
    return login_verified(Client(), get_user_model().objects.create_superuser("auditor", password="x" * 16))


@pytest.fixture
def operator(db):
    user = get_user_model().objects.create_user("dee.dispatch", password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def unit(db):
    unit = make_unit("tsu", name="Tactical Support Unit")
    primary, secondary = unit.tiers.all()
    for tier, name in ((primary, "Alex Morgan"), (secondary, "Priya Shah")):
        person = make_person(name)
        ContactMethod.objects.create(person=person, kind="push", address=f"{name}'s phone", verified_at=AT)
        add_member(unit, person)
        FixedRule.objects.create(tier=tier, person=person)
    return unit


def rows(page: str) -> list[str]:
    """The text of each row of the result list, tags removed."""
    body = page.split('id="result_list"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr")[2:]]


def row_of(page: str, event: str) -> str:
    [row] = [row for row in rows(page) if f" {event} " in f" {row} "]
    return row


def test_each_callout_event_is_listed_by_name_with_its_message(reader, operator, unit):
    with time_machine.travel(AT, tick=False), acting(operator, remote_addr="192.0.2.10"):
        callout = callout_launch(unit=unit, message="Armed suspect, Kennington Park", actor=operator)
        callout_escalate_now(callout=callout, actor=operator)
        callout_send_update(callout=callout, text="Thanks all, suspect detained", actor=operator, stand_down=True)

    page = reader.get(LIST).content.decode()

    launched = row_of(page, "Callout launched")
    assert "2026-06-03 14:05:09" in launched and "dee.dispatch" in launched and "192.0.2.10" in launched
    assert "Escalated by operator" in row_of(page, "Escalated")
    assert "Thanks all, suspect detained" in row_of(page, "Stood down")
    assert not any(row.startswith("2026") and " access " in f" {row} " for row in rows(page))


def test_a_cancelled_callout_is_told_apart_from_a_closed_one(reader, operator, unit):
    with acting(operator):
        cancelled = callout_launch(unit=unit, message="Search of Brixton Road", actor=operator)
        callout_cancel(callout=cancelled, actor=operator, reason="Found safe by the family")
        closed = callout_launch(unit=unit, message="Search of Atlantic Road", actor=operator)
        callout_close(callout=closed, actor=operator, outcome="Suspect arrested")

    page = reader.get(LIST).content.decode()

    assert "Found safe by the family" in row_of(page, "Callout cancelled")
    assert "Suspect arrested" in row_of(page, "Callout closed")


def test_the_list_filters_by_event(reader, operator, unit):
    with acting(operator):
        for outcome in ("Suspect arrested", "Stood down at the scene"):
            callout_close(callout=callout_launch(unit=unit, message="Search", actor=operator), actor=operator,
                          outcome=outcome)

    response = reader.get(LIST, {"event": "callout_closed"})

    assert response.status_code == 200
    assert [row.split(" Callout closed ")[1][:16] for row in rows(response.content.decode())] == [
        "Stood down at th", "Suspect arrested"]
    assert {e.additional_data["event"] for e in response.context["cl"].result_list} == {"callout_closed"}
    everything = reader.get(LIST).content.decode()
    assert '<a href="?event=callout_closed">Callout closed</a>' in everything
    assert '<a href="?event=callout_launched">Callout launched</a>' in everything


def test_a_failed_login_shows_the_name_tried_the_address_and_nobody_logged_in(reader, db):
    Client(REMOTE_ADDR="198.51.100.7").post("/admin/login/", {"username": "mallory", "password": "guess",
                                                              "otp_token": "123456"})

    row = row_of(reader.get(LIST).content.decode(), "Login failed")

    assert "mallory" in row and "198.51.100.7" in row and "not logged in" in row


def test_an_entry_keeps_showing_who_acted_after_their_user_is_deleted(reader, operator, unit):
    launcher = get_user_model().objects.create_user("launcher")
    callout = callout_launch(unit=unit, message="Search", actor=launcher)
    with acting(operator, remote_addr="192.0.2.10"):
        callout_send_update(callout=callout, text="RV moved to the north yard", actor=operator)
    operator.delete()

    row = row_of(reader.get(LIST).content.decode(), "Update sent")

    assert "RV moved to the north yard" in row
    assert "dee.dispatch (user deleted)" in row and "192.0.2.10" in row


def test_an_entry_page_shows_its_event_message_and_what_was_recorded_with_it(reader, operator, unit):
    with acting(operator):
        callout = callout_launch(unit=unit, message="Search", actor=operator)
        callout_cancel(callout=callout, actor=operator, reason="Found safe by the family")
    entry = LogEntry.objects.get(additional_data__event="callout_cancelled")

    page = reader.get(f"{LIST}{entry.pk}/change/").content.decode()

    assert "Callout cancelled" in page and "Found safe by the family" in page and "dee.dispatch" in page
