"""The timeline of a callout, as the live page shows it: every send, answer, reply not understood and step, in order,
with its channel and time."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callouts import tasks
from callouts.live import live_callout
from callouts.models import Delivery, EscalationPolicy
from callouts.services.callouts import (
    callout_close,
    callout_escalate_now,
    callout_launch,
    callout_respond,
    callout_send_update,
    escalations_due,
)
from callouts.services.replies import reply_received
from tests.factories import login_verified


@pytest.fixture
def dispatcher(db):
    user = get_user_model().objects.create_user("dispatcher", is_staff=True, first_name="Dee", last_name="Dispatch")
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def console(client, dispatcher):
    return login_verified(client, dispatcher)


@pytest.fixture
def callout(k9, dispatcher):
    """Two accepts fill it; five minutes on each list."""
    EscalationPolicy.objects.create(unit=k9, quorum=2, wait_minutes=5)
    callout = callout_launch(unit=k9, message="Missing child, Riverside Park", incident_ref="INC-1", actor=dispatcher)
    tasks.sweep()
    return callout


def recipient(callout, name):
    return callout.recipients.get(person__full_name=name)


def words(html: str) -> str:
    """What a person reads: the text without tags, entities as their characters, one space between words."""
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).split())


def page(console, callout) -> str:
    return words(console.get(reverse("admin:callouts_callout_live", args=[callout.pk])).content.decode())


def story(callout) -> list[tuple[str, str, str]]:
    return [(event.what, event.person, event.channel) for event in live_callout(callout.pk).timeline]


def test_the_timeline_tells_the_whole_callout_in_order(callout, dispatcher, clock):
    clock.shift(30)
    callout_respond(recipient=recipient(callout, "Ann"), response="accept", channel="sms", eta_minutes=10)
    clock.shift(10)
    ben = recipient(callout, "Ben")
    reply_received(recipient=ben, channel="sms", body="on my way", understood=False, actor=None)
    clock.shift(20)
    tasks.sweep()  # a minute in: the voice calls to those not answering
    clock.shift(timedelta(minutes=5))
    escalations_due()
    tasks.sweep()
    clock.shift(15)
    callout_respond(recipient=recipient(callout, "Dan"), response="accept", channel="app")
    clock.shift(60)
    callout_close(callout=callout, actor=dispatcher, outcome="Found safe")
    tasks.sweep()

    assert story(callout) == [
        ("Launched", "", ""),
        ("Alert sent", "", "SMS"),
        ("Alert sent", "", "Mobile push"),
        ("Accepted", "Ann", "SMS"),
        ("Reply not understood", "Ben", "SMS"),
        ("Alert sent", "", "Voice call"),
        ("Escalated", "", ""),
        ("Alert sent", "", "SMS"),
        ("Alert sent", "", "Mobile push"),
        ("Accepted", "Dan", "App"),
        ("Need met", "", ""),
        ("Closed", "", ""),
        ("Stand-down sent", "", "SMS"),
        ("Stand-down sent", "", "Mobile push"),
    ]


def test_each_event_says_what_a_dispatcher_needs_to_know(callout, dispatcher, clock):
    clock.shift(30)
    callout_respond(recipient=recipient(callout, "Ann"), response="accept", channel="sms", eta_minutes=10)
    reply_received(recipient=recipient(callout, "Ben"), channel="sms", body="on my way", understood=False,
                   actor=None)
    clock.shift(timedelta(minutes=5))
    escalations_due()
    events = {event.what: event for event in live_callout(callout.pk).timeline}

    assert events["Launched"].by == "Dee Dispatch"
    assert events["Alert sent"].detail == "to 3 on Primary"
    assert events["Accepted"].detail == "ETA 10 min, arrives ~10:10"
    assert (events["Accepted"].tone, events["Reply not understood"].tone) == ("good", "problem")
    assert events["Reply not understood"].detail == "“on my way”: they were sent how to answer"
    assert events["Escalated"].detail == "wait ran out: Secondary alerted"


def test_an_escalation_that_finds_no_list_left_is_one_red_event_saying_why(callout, dispatcher, clock):
    clock.shift(timedelta(minutes=5))
    escalations_due()
    callout_escalate_now(callout=callout, actor=dispatcher)
    events = [(e.what, e.detail, e.by, e.tone) for e in live_callout(callout.pk).timeline
              if e.what in ("Escalated", "Exhausted")]

    assert events == [
        ("Escalated", "wait ran out: Secondary alerted", "", ""),
        ("Exhausted", "By operator; every list alerted and the need not met: phone round now", "Dee Dispatch",
         "problem"),
    ]


def test_an_update_and_a_stand_down_are_told_apart_and_say_who_sent_them(callout, dispatcher, clock):
    callout_respond(recipient=recipient(callout, "Ann"), response="accept", channel="app")
    callout_send_update(callout=callout, text="RV moved to the north gate", actor=dispatcher)
    callout_send_update(callout=callout, text="Not needed", actor=dispatcher, stand_down=True)
    tasks.sweep()
    events = live_callout(callout.pk).timeline
    steps = [(e.what, e.detail, e.by) for e in events if e.what in ("Update", "Stand-down")]
    sends = [(e.what, e.channel, e.detail) for e in events if e.what in ("Update sent", "Stand-down sent")]

    assert steps == [("Update", "RV moved to the north gate (2 messages)", "Dee Dispatch"),
                     ("Stand-down", "STAND DOWN. Not needed (2 messages)", "Dee Dispatch")]
    assert sends == [("Update sent", "SMS", "to 1 person"), ("Update sent", "Mobile push", "to 1 person"),
                     ("Stand-down sent", "SMS", "to 1 person"), ("Stand-down sent", "Mobile push", "to 1 person")]


def test_failed_messages_are_named_with_their_reason_in_red(callout):
    Delivery.objects.filter(recipient__person__full_name="Cat", channel="push").update(
        state=Delivery.State.FAILED, error="Subscription expired (410)")
    send = next(e for e in live_callout(callout.pk).timeline if e.channel == "Mobile push")

    assert send.detail == "to 3 on Primary; 1 failed (Cat: Subscription expired (410))"
    assert send.tone == "problem"


def test_an_answer_from_the_live_page_reaches_the_timeline_through_the_poll(console, callout):
    reply_received(recipient=recipient(callout, "Ben"), channel="sms", body="on my way", understood=False,
                   actor=None)
    html = console.get(reverse("admin:callouts_callout_live_json", args=[callout.pk])).json()["timeline_html"]

    assert 'id="timeline"' in html and "Reply not understood" in words(html) and "“on my way”" in words(html)


def test_a_text_not_understood_shows_in_the_persons_row_until_they_answer(console, callout, clock):
    ben = recipient(callout, "Ben")
    reply_received(recipient=ben, channel="sms", body="on my way", understood=False, actor=None)
    live = page(console, callout)
    assert "Texted “on my way” at 10:00: not understood, not an answer" in live

    clock.shift(30)
    callout_respond(recipient=ben, response="accept", channel="sms")
    live = page(console, callout)
    assert "not understood, not an answer" not in live


def test_the_live_page_shows_the_newest_30_events_and_says_so(callout, dispatcher, console, clock):
    ben = recipient(callout, "Ben")
    for n in range(35):
        clock.shift(1)
        reply_received(recipient=ben, channel="sms", body=f"text {n}", understood=False, actor=None)
    live = live_callout(callout.pk)
    html = page(console, callout)

    assert [e.detail for e in live.latest_events[:2]] == ["“text 34”: they were sent how to answer",
                                                         "“text 33”: they were sent how to answer"]
    assert len(live.latest_events) == 30
    assert "newest first, the latest 30 of 38" in html


def test_the_timeline_costs_the_same_queries_for_a_long_callout(callout, dispatcher, clock):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            live_callout(callout.pk)
        return len(captured)

    before = queries()
    for name in ("Ann", "Ben", "Cat"):
        clock.shift(10)
        callout_respond(recipient=recipient(callout, name), response="decline", channel="sms")
        reply_received(recipient=recipient(callout, name), channel="sms", body="?", understood=False, actor=None)
    tasks.sweep()
    assert queries() == before
