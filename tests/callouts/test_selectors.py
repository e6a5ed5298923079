"""Callouts nobody is coming to: red on the home page and above the callouts list, for every operator, until
someone acts on them (callouts.selectors.callouts_needing_action)."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callouts.models import Callout
from callouts.selectors import callouts_needing_action
from callouts.services.callouts import callout_launch, callout_respond
from tests.callouts.conftest import LAUNCH, reachable_person
from tests.factories import login_verified, make_unit
from units.models import FixedRule

HOME = reverse("admin:index")
CALLOUTS = reverse("admin:callouts_callout_changelist")


def operator_named(username):
    user = get_user_model().objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def launcher(db):
    return operator_named("launcher")


@pytest.fixture
def night_shift(client, db):
    """Another operator than the one who launched: the red list is for everyone watching."""
    return login_verified(client, operator_named("night"))


def launch(unit, actor, ref="INC-1"):
    return callout_launch(unit=unit, message="Missing child, Riverside Park", actor=actor, incident_ref=ref)


def exhausted_callout(actor, ref="INC-EX"):
    """A callout of a unit with nobody on any list: exhausted as it launches."""
    callout = launch(make_unit(name=f"Empty unit {ref}"), actor, ref)
    assert callout.state == Callout.State.EXHAUSTED
    return callout


def red_block(response) -> str:
    """The text of the red list on the page, or "" when there is none."""
    found = re.search(r'<section id="needs-action".*?</section>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split()) if found else ""


def act(client, callout, name, **data):
    response = client.post(reverse(f"admin:callouts_callout_{name}", args=[callout.pk]), data)
    assert response.status_code == 302


def test_an_exhausted_callout_is_red_on_the_home_page_and_the_callouts_list_for_every_operator(
        night_shift, launcher, k9):
    exhausted_callout(launcher, "INC-9")
    launch(k9, launcher, "INC-QUIET")  # active, on time: nothing to shout about

    for page in (HOME, CALLOUTS):
        shown = red_block(night_shift.get(page))
        assert "Act now: 1 callout exhausted or overdue" in shown, page
        assert "Empty unit INC-9: INC-9 Exhausted: every list has been alerted and the need is not met" in shown
        assert "Phone round now." in shown
        assert "INC-QUIET" not in shown


def test_the_red_list_links_each_callout_to_its_live_page(night_shift, launcher):
    callout = exhausted_callout(launcher)

    content = night_shift.get(HOME).content.decode()

    assert f'href="{reverse("admin:callouts_callout_live", args=[callout.pk])}"' in content


def test_an_exhausted_callout_stays_red_when_people_are_added_and_leaves_when_closed(night_shift, launcher, k9):
    callout = exhausted_callout(launcher)
    act(night_shift, callout, "add_people", people=[k9.people["Ann"].pk])

    assert "INC-EX" in red_block(night_shift.get(HOME))

    act(night_shift, callout, "close", outcome="Found safe by patrol")

    assert red_block(night_shift.get(HOME)) == ""


def test_an_exhausted_callout_leaves_the_red_list_when_cancelled(night_shift, launcher):
    callout = exhausted_callout(launcher)
    assert "INC-EX" in red_block(night_shift.get(CALLOUTS))

    act(night_shift, callout, "cancel", reason="Duplicate call")

    assert red_block(night_shift.get(CALLOUTS)) == ""


def test_an_exhausted_callout_leaves_the_red_list_when_late_accepts_fill_it(night_shift, launcher, k9):
    k9.tiers.get(position=2).rotations.all().delete()
    FixedRule.objects.filter(tier__position=2).delete()
    callout = launch(k9, launcher)
    act(night_shift, callout, "escalate")  # nobody after Primary: exhausted
    assert "INC-1" in red_block(night_shift.get(HOME))

    callout_respond(recipient=callout.recipients.get(person=k9.people["Ann"]), response="accept", channel="sms")

    assert red_block(night_shift.get(HOME)) == ""


def test_an_overdue_escalation_is_red_once_its_wait_is_more_than_30_seconds_past(night_shift, launcher, k9, clock):
    launch(k9, launcher)  # waits 5 minutes on Primary; no sweep runs in this test
    clock.move_to(LAUNCH + timedelta(minutes=5, seconds=20))
    assert red_block(night_shift.get(HOME)) == ""

    clock.move_to(LAUNCH + timedelta(minutes=9))

    shown = red_block(night_shift.get(HOME))
    assert "Canine Unit: INC-1 Escalation overdue by 4 minutes: the next list has not been alerted" in shown
    assert "(needs 1 accept; 0 accepted)" in shown


@pytest.mark.parametrize(("name", "data"), [
    ("escalate", {}),
    ("resend", {"channel": "voice"}),
    ("cancel", {"reason": "Found safe"}),
    ("close", {"outcome": "Found safe"}),
])
def test_an_overdue_escalation_leaves_the_red_list_once_an_operator_acts_on_it(
        night_shift, launcher, k9, clock, name, data):
    callout = launch(k9, launcher)
    clock.move_to(LAUNCH + timedelta(minutes=9))
    assert "INC-1" in red_block(night_shift.get(HOME))

    act(night_shift, callout, name, **data)

    assert red_block(night_shift.get(HOME)) == ""


def test_an_overdue_escalation_leaves_the_red_list_when_people_are_added_after_it_fell_due(
        night_shift, launcher, k9, clock):
    callout = launch(k9, launcher)
    extra = reachable_person("Zoe", 90)
    act(night_shift, callout, "add_people", people=[k9.people["Dan"].pk])  # before the wait ran out
    clock.move_to(LAUNCH + timedelta(minutes=9))
    assert "INC-1" in red_block(night_shift.get(HOME))

    act(night_shift, callout, "add_people", people=[extra.pk])

    assert red_block(night_shift.get(HOME)) == ""


def test_an_overdue_escalation_comes_back_when_the_next_wait_runs_out_too(night_shift, launcher, k9, clock):
    callout = launch(k9, launcher)
    clock.move_to(LAUNCH + timedelta(minutes=9))
    act(night_shift, callout, "escalate")

    clock.move_to(LAUNCH + timedelta(minutes=20))

    assert "Escalation overdue by 6 minutes" in red_block(night_shift.get(HOME))


def test_a_filled_callout_is_not_red(night_shift, launcher, k9, clock):
    filled = launch(k9, launcher, "INC-FILLED")
    callout_respond(recipient=filled.recipients.get(person=k9.people["Ann"]), response="accept", channel="sms")
    waiting = launch(k9, launcher, "INC-WAITING")
    clock.move_to(LAUNCH + timedelta(minutes=9))

    shown = red_block(night_shift.get(HOME))
    assert "INC-WAITING" in shown and "INC-FILLED" not in shown
    assert list(callouts_needing_action()) == [waiting]


def test_staff_who_do_not_watch_callouts_see_no_red_list(night_shift, launcher):
    exhausted_callout(launcher)
    assert red_block(night_shift.get(HOME))
    clerk = get_user_model().objects.create_user("clerk", is_staff=True)
    clerks_browser = login_verified(Client(), clerk)

    response = clerks_browser.get(HOME)

    assert response.status_code == 200
    assert red_block(response) == ""


def test_the_home_page_reads_the_red_list_in_as_many_queries_for_many_callouts_as_for_one(
        night_shift, launcher, k9, clock):
    exhausted_callout(launcher, "INC-A")
    launch(k9, launcher, "INC-B")
    clock.move_to(LAUNCH + timedelta(minutes=9))
    night_shift.get(HOME)
    with CaptureQueriesContext(connection) as few:
        night_shift.get(HOME)
    for n in range(4):
        exhausted_callout(launcher, f"INC-X{n}")
        launch(k9, launcher, f"INC-Y{n}")
    clock.move_to(LAUNCH + timedelta(minutes=20))

    with CaptureQueriesContext(connection) as many:
        response = night_shift.get(HOME)

    assert "Act now: 10 callouts exhausted or overdue" in red_block(response)
    assert len(many) == len(few)


def test_the_home_page_and_the_callouts_list_run_no_inline_code_with_the_red_list(night_shift, launcher):
    from tests.csp import inline_code

    exhausted_callout(launcher)
    for page in (HOME, CALLOUTS):
        response = night_shift.get(page)
        assert red_block(response)
        assert inline_code(response) == [], page
