"""The after-action report of a callout: how fast it filled, who came by which channel, who was not reached and why,
and the timeline; as a printable page and as CSV, each read audited."""

import csv
import io
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from callouts import tasks
from callouts.models import Delivery, EscalationPolicy
from callouts.services.callouts import callout_close, callout_launch, callout_respond
from tests.callouts.test_timeline import words
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
def night(k9, dispatcher, clock):
    """Cat's alerts all fail; Ann accepts by SMS after 1:30 and Ben declines by app, so the primary list cannot fill
    and the secondary is alerted at once; Dan accepts from it by app at 6:10, which fills it; then it is closed."""
    EscalationPolicy.objects.create(unit=k9, quorum=2, wait_minutes=5)
    callout = callout_launch(unit=k9, message="Missing child, Riverside Park", incident_ref="INC-1", actor=dispatcher)
    tasks.sweep()
    Delivery.objects.filter(recipient__person__full_name="Cat").update(state=Delivery.State.FAILED,
                                                                     error="Number not in service")
    clock.shift(90)
    answer(callout, "Ann", "accept", channel="sms", eta_minutes=20)
    answer(callout, "Ben", "decline", channel="app")
    clock.shift(timedelta(minutes=4, seconds=40))
    tasks.sweep()
    answer(callout, "Dan", "accept", channel="app")
    callout_close(callout=callout, actor=dispatcher, outcome="Found safe at 10:20")
    return callout


def answer(callout, name, response, **kwargs):
    recipient = callout.recipients.get(person__full_name=name)
    return callout_respond(recipient=recipient, response=response, **kwargs)


def report_page(console, callout) -> str:
    response = console.get(reverse("admin:callouts_callout_after_action", args=[callout.pk]))
    assert response.status_code == 200
    return words(response.content.decode())


def export(console, callout) -> list[dict]:
    response = console.get(reverse("admin:callouts_callout_after_action_csv", args=[callout.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="callout-{callout.pk}-after-action.csv"'
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_report_gives_time_to_first_accept_and_to_the_need_met(console, night):
    page = report_page(console, night)

    assert "First accept after 1:30" in page
    assert "Need met after 6:10" in page
    assert "CLOSED" in page and "Outcome: Found safe at 10:20" in page


def test_the_report_says_who_came_by_which_channel(console, night):
    page = report_page(console, night)

    assert "App: 1 · SMS: 1" in page
    assert "Ann (stood down) Primary SMS 10:01 1:30 20 min" in page
    assert "Dan (stood down) Secondary App 10:06 6:10 -" in page
    assert "Declined: Ben (App, after 1:30)." in page


def test_the_report_says_who_was_not_reached_and_why(console, night):
    page = report_page(console, night)

    assert "Cat Primary Every message failed (Mobile push failed: Number not in service; SMS failed: Number not " \
           "in service; Voice call failed: Number not in service)" in page
    assert "Eve Secondary Alerted by Mobile push, SMS, Voice call; no answer" in page


def test_the_report_ends_with_the_whole_timeline_oldest_first(console, night):
    page = report_page(console, night)
    timeline = page[page.index("Timeline Time What Who Channel Detail"):]

    assert timeline.index("Launched") < timeline.index("Escalated") < timeline.index("Need met") \
        < timeline.index("Closed")


def test_the_csv_carries_the_figures_the_people_and_the_timeline(console, night):
    rows = export(console, night)
    figures = {row["what"]: row["detail"] for row in rows if row["section"] == "figures"}
    people = [(row["section"], row["person"], row["channel"]) for row in rows
              if row["section"] in ("accepted", "declined", "unreached")]

    assert figures == {"Time to first accept": "1:30", "Time to need met": "6:10"}
    assert people == [("accepted", "Ann", "SMS"), ("accepted", "Dan", "App"), ("declined", "Ben", "App"),
                      ("unreached", "Cat", ""), ("unreached", "Eve", "")]
    timeline = [row["what"] for row in rows if row["section"] == "timeline"]
    assert timeline[0] == "Launched" and "Closed" in timeline


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused(console, k9, dispatcher):
    callout = callout_launch(unit=k9, message="=HYPERLINK(\"http://evil\")", actor=dispatcher)
    rows = export(console, callout)

    assert rows[0]["detail"].endswith("; ; =HYPERLINK(\"http://evil\")")  # within the cell: not its start
    callout_close(callout=callout, actor=dispatcher, outcome="-1+1")
    assert export(console, callout)[1]["detail"] == "'-1+1"


def test_reading_and_exporting_are_audited_with_who_and_where(console, night):
    report_page(console, night)
    export(console, night)
    entries = LogEntry.objects.filter(object_pk=str(night.pk),
                                      additional_data__event__in=["after_action_viewed", "after_action_exported"])

    assert sorted((e.additional_data["event"], e.actor_email, e.remote_addr) for e in entries) == [
        ("after_action_exported", "dispatcher", "127.0.0.1"), ("after_action_viewed", "dispatcher", "127.0.0.1")]


def test_someone_who_may_not_view_callouts_cannot_read_the_report(client, night):
    outsider = get_user_model().objects.create_user("clerk", is_staff=True)
    login_verified(client, outsider)

    for name in ("admin:callouts_callout_after_action", "admin:callouts_callout_after_action_csv"):
        assert client.get(reverse(name, args=[night.pk])).status_code == 403
    assert not LogEntry.objects.filter(additional_data__event__startswith="after_action").exists()


def test_an_unknown_callout_has_no_report(console):
    assert console.get(reverse("admin:callouts_callout_after_action", args=[999])).status_code == 404


def test_the_live_page_links_to_the_report(console, night):
    html = console.get(reverse("admin:callouts_callout_live", args=[night.pk])).content.decode()

    assert f'href="{reverse("admin:callouts_callout_after_action", args=[night.pk])}"' in html
