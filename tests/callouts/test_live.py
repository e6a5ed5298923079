"""The live page and the callouts list as a dispatcher reads them at 3 a.m.: the state said loudly, whom to phone,
who was stood down, and times on the 24-hour clock."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import constants as levels
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from callouts import tasks
from callouts.models import Callout, Delivery, EscalationPolicy
from callouts.services.callouts import (
    callout_cancel,
    callout_close,
    callout_escalate_now,
    callout_launch,
    callout_respond,
    callout_send_update,
)
from tests.factories import login_verified
from units.models import FixedRule, Rotation


@pytest.fixture
def dispatcher(db):
    user = get_user_model().objects.create_user("dispatcher", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def console(client, dispatcher):
    return login_verified(client, dispatcher)


@pytest.fixture
def no_secondary(k9):
    """The Canine Unit with nobody on its secondary list tonight."""
    Rotation.objects.filter(tier__unit=k9, tier__position=2).delete()
    FixedRule.objects.filter(tier__unit=k9, tier__position=2).delete()
    return k9


def launch(unit, actor, **kwargs):
    return callout_launch(unit=unit, message="Missing child", actor=actor, **{"incident_ref": "INC-1", **kwargs})


def answer(callout, name, response, **kwargs):
    recipient = callout.recipients.get(person__full_name=name)
    return callout_respond(recipient=recipient, response=response, channel=kwargs.pop("channel", "sms"), **kwargs)


def page(client, callout) -> str:
    response = client.get(reverse("admin:callouts_callout_live", args=[callout.pk]))
    assert response.status_code == 200
    return response.content.decode()


def live_json(client, callout) -> dict:
    response = client.get(reverse("admin:callouts_callout_live_json", args=[callout.pk]))
    assert response.status_code == 200
    return response.json()


def text(html: str) -> str:
    """What a reader sees: tags dropped, white space squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&middot;", "·")


def banner(html: str) -> tuple[str, str]:
    """The state banner's colour class and its words."""
    found = re.search(r'<div id="callout-state" class="state-banner state-banner-(\w+)">(.*?)</div>', html, re.S)
    return found.group(1), text(found.group(2))


def action(client, callout, name, **data):
    return client.post(reverse(f"admin:callouts_callout_{name}", args=[callout.pk]), data)


def said(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


def form_of(html: str, form_id: str) -> str:
    return re.search(rf'<form id="{form_id}".*?</form>', html, re.S).group(0)


# The state banner


def test_an_active_callout_says_whom_it_waits_for_and_which_list_comes_next(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    colour, words = banner(page(console, callout))

    assert colour == "active"
    assert words == ("ACTIVE Waiting for answers from Primary: 0 of 1 accept. Unless the need is met by 10:05 "
                     "(unit 11:05 BST), Secondary is alerted.")


def test_a_filled_callout_has_a_green_banner(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    answer(callout, "Ann", "accept", eta_minutes=10)

    colour, words = banner(page(console, callout))

    assert colour == "filled"
    assert words.startswith("FILLED Need met: 1 accept.")


def test_a_callout_that_escalated_into_an_empty_list_is_exhausted_in_red_with_the_phone_round(
        console, no_secondary, dispatcher, clock):
    callout = launch(no_secondary, dispatcher)
    answer(callout, "Ben", "decline")
    clock.shift(timedelta(minutes=5))
    tasks.sweep()  # the wait on primary runs out; the secondary list is empty tonight

    html = page(console, callout)

    colour, words = banner(html)
    assert colour == "exhausted"
    assert "EXHAUSTED Not filled, and no list is left to alert: 0 of 1 accept." in words
    assert "Phone round now: 2 people not answering" in words
    # The phone round comes straight after the banner, before the grid, when nobody is coming.
    assert html.index('id="phone-round"') < html.index('class="callout-table"')
    assert live_json(console, callout)["banner"]["action"] == "Phone round now: 2 people not answering"


@pytest.mark.parametrize(("end", "label"), [(callout_cancel, "CANCELLED"), (callout_close, "CLOSED")])
def test_an_ended_callout_says_when_it_ended(console, k9, dispatcher, clock, end, label):
    callout = launch(k9, dispatcher)
    clock.shift(timedelta(minutes=40))
    end(callout=callout, actor=dispatcher, **({"reason": "Wrong unit"} if end is callout_cancel else {"outcome": "x"}))

    colour, words = banner(page(console, callout))

    assert colour == label.lower()
    assert words == (f"{label} {label.capitalize()} at 10:40 (unit 11:40 BST). Those who accepted were told to "
                     "stand down.")


# Escalate now


def test_escalate_now_on_the_last_list_is_reported_as_exhausted_in_red_not_as_a_success(
        console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    callout_escalate_now(callout=callout, actor=dispatcher)  # to secondary, the last list

    response = action(console, callout, "escalate")

    callout.refresh_from_db()
    assert callout.state == Callout.State.EXHAUSTED
    [(level, message)] = said(response)
    assert level == levels.ERROR
    assert message.startswith("EXHAUSTED. Not filled, and no list is left to alert: 0 of 1 accept.")
    assert "Phone round now: 5 people not answering" in message


def test_escalate_now_names_the_list_it_alerted(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    response = action(console, callout, "escalate")

    assert said(response) == [(levels.SUCCESS, "Escalated: Secondary is being alerted.")]


def test_escalate_now_asks_first_and_says_what_it_will_do(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    escalate = form_of(page(console, callout), "action-escalate")

    assert 'data-confirm="Alert Secondary now, without waiting for Primary?"' in escalate
    assert "Alert Secondary without waiting." in escalate


def test_on_the_last_list_there_is_no_countdown_and_escalate_now_warns_it_exhausts_the_callout(
        console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    callout_escalate_now(callout=callout, actor=dispatcher)

    html = page(console, callout)

    live = html[html.index('<div id="live"'):html.index('id="live-status"')]
    assert "data-until" not in live
    assert 'id="next-list">None: last list<' in html
    assert "This is the last list: unless the need is met by 10:05 (unit 11:05 BST), the callout is exhausted." \
        in banner(html)[1]
    assert "the callout becomes EXHAUSTED, not filled and alerts the duty operators" in form_of(html, "action-escalate")
    assert live_json(console, callout)["next_list"] is None


def test_the_next_list_counts_down_and_then_says_it_is_overdue(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    clock.shift(timedelta(minutes=1, seconds=15))
    assert "Next list Secondary in 3:45" in text(page(console, callout))

    clock.shift(timedelta(minutes=4, seconds=16))  # the timers did not move it on

    assert "Next list Secondary overdue by 0:31" in text(page(console, callout))


def test_with_repeats_the_next_list_is_the_first_again(console, k9, dispatcher):
    EscalationPolicy.objects.create(unit=k9, repeat_count=1)
    callout = launch(k9, dispatcher)
    callout_escalate_now(callout=callout, actor=dispatcher)

    data = live_json(console, callout)

    assert data["next_list"] == {"name": "Primary", "round": 2}
    assert 'id="next-list">Primary (round 2)' in data["html"]


# Actions in their places


def boxes(html: str) -> list[tuple[str, bool]]:
    """Each action box in page order, and whether it is offered (not disabled)."""
    return [(form_id, "disabled" not in fieldset)
            for form_id, fieldset in re.findall(r'<form id="(action-[\w-]+)".*?(<fieldset[^>]*>)', html, re.S)]


def test_every_action_keeps_its_place_and_those_the_state_refuses_are_disabled(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    active = boxes(page(console, callout))
    answer(callout, "Ann", "accept")

    filled = boxes(page(console, callout))

    assert [name for name, _ in active] == [name for name, _ in filled] == [
        "action-escalate", "action-add-people", "action-resend", "action-update", "action-stand-down",
        "action-cancel", "action-close"]
    assert all(offered for _, offered in active)
    assert [name for name, offered in filled if not offered] == ["action-escalate", "action-resend"]
    assert "Not while the callout is filled." in form_of(page(console, callout), "action-escalate")


def test_an_ended_callout_offers_no_actions(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    callout_close(callout=callout, actor=dispatcher, outcome="Found")

    html = page(console, callout)

    assert boxes(html) == []
    assert "This callout is closed: there is nothing more to send or change." in text(html)


def test_the_update_and_stand_down_forms_offer_a_voice_call_unticked(console, k9, dispatcher):
    html = page(console, launch(k9, dispatcher))

    for form_id in ("action-update", "action-stand-down"):
        checkbox = re.search(r'<input type="checkbox" name="by_voice"[^>]*>', form_of(html, form_id)).group(0)
        assert "checked" not in checkbox
        assert "Also by voice call" in form_of(html, form_id)


def test_an_update_goes_by_voice_call_only_when_ticked(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    answer(callout, "Ann", "accept")

    action(console, callout, "update", text="RV moved")
    action(console, callout, "update", text="RV moved again", by_voice="on")

    updates = Delivery.objects.filter(kind="update").order_by("sequence")
    assert [(d.sequence, d.channel) for d in updates if d.channel == "voice"] == [(2, "voice")]


def test_an_update_that_could_not_reach_someone_says_so(console, k9, dispatcher):
    k9.people["Ann"].contact_methods.exclude(kind="voice").delete()
    callout = launch(k9, dispatcher)
    answer(callout, "Ann", "accept")
    answer(callout, "Ben", "accept")

    response = action(console, callout, "stand_down", text="Found")

    [(level, message)] = said(response)
    assert level == levels.WARNING
    assert message == ("Stand-down sent to 1 who accepted (2 messages). Not sent to Ann: no way to reach them but a "
                       'voice call. Tick "Also by voice call" or phone them.')
    assert "Not told: no channel but a voice call. Phone them." in page(console, callout)


def test_closing_from_the_console_says_those_who_accepted_are_stood_down(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    answer(callout, "Ann", "accept")

    response = action(console, callout, "close", outcome="Found")

    assert said(response) == [(levels.SUCCESS, "Callout closed; those who accepted are told to stand down.")]
    assert Delivery.objects.filter(kind="update", recipient__person__full_name="Ann").exists()


# People: links, numbers, the phone round


def test_each_person_links_to_their_page_with_their_numbers_to_call(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    ann = k9.people["Ann"]
    numbers = list(ann.contact_methods.filter(kind__in=["sms", "voice"]).values_list("address", flat=True))

    html = page(console, callout)

    row = re.search(r'<tr class="person-row" data-recipient="\d+">\s*<td class="person-cell"><a class="person-link" '
                    rf'href="{reverse("admin:units_person_change", args=[ann.pk])}">Ann</a>(.*?)</td>', html, re.S)
    assert row, "Ann's row links to her page"
    assert sorted(re.findall(r'href="tel:([^"]+)"', row.group(1))) == sorted(numbers)
    ann_json = next(p for t in live_json(console, callout)["tiers"] for p in t["people"] if p["name"] == "Ann")
    assert sorted(ann_json["phones"]) == sorted(numbers)


def test_the_phone_round_lists_those_not_answering_in_list_order_then_place(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    answer(callout, "Ben", "decline")
    callout_escalate_now(callout=callout, actor=dispatcher)
    answer(callout, "Dan", "accept")

    html = page(console, callout)

    phone_round = html[html.index('id="phone-round"'):]
    names = re.findall(r'class="person-link" href="[^"]+">(\w+)</a>', phone_round)
    assert names == ["Ann", "Cat", "Eve"]
    assert "Phone round: 3 not answering" in text(phone_round)
    assert live_json(console, callout)["phone_round"] == [
        callout.recipients.get(person__full_name=name).pk for name in names]


def test_someone_whose_every_alert_failed_is_flagged_in_the_phone_round(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    cat = callout.recipients.get(person__full_name="Cat")
    Delivery.objects.filter(recipient=cat).update(state=Delivery.State.FAILED, error="Unreachable number")

    html = page(console, callout)

    phone_round = html[html.index('id="phone-round"'):]
    assert "Every message failed." in phone_round
    assert "Every message failed: phone them." in html


def test_a_viewer_who_may_not_see_people_gets_names_without_links_or_numbers(k9, dispatcher):
    watcher = get_user_model().objects.create_user("watcher", is_staff=True)
    watcher.user_permissions.add(Permission.objects.get(codename="view_callout"))
    client = login_verified(Client(), watcher)
    callout = launch(k9, dispatcher)

    html = page(client, callout)

    assert 'class="person-link"' not in html
    assert '<span class="person-name">Ann</span>' in html
    assert "tel:" not in html and "tel:" not in live_json(client, callout)["html"]
    assert {p["phones"] for t in live_json(client, callout)["tiers"] for p in t["people"]} == {None}


# Answers as a dispatcher reads them


def test_an_accept_shows_when_they_will_arrive_on_the_clock(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    clock.shift(timedelta(minutes=3))
    answer(callout, "Ann", "accept", eta_minutes=12)

    data = live_json(console, callout)

    assert "Accepted · arrives ~10:15 (ETA 12 min)" in text(data["html"])
    assert next(p for t in data["tiers"] for p in t["people"] if p["name"] == "Ann")["arrives_at"] == \
        "2026-06-03T10:15:00+00:00"


def test_a_stood_down_person_shows_as_stood_down_not_accepted_with_an_eta(console, k9, dispatcher, clock):
    EscalationPolicy.objects.create(unit=k9, quorum=2)
    callout = launch(k9, dispatcher)
    answer(callout, "Ann", "accept", eta_minutes=12)
    clock.shift(timedelta(minutes=12))
    callout_send_update(callout=callout, text="Found", actor=dispatcher, stand_down=True)

    html = page(console, callout)

    ann = html[html.index(">Ann</a>"):html.index(">Ben</a>")]
    assert "Stood down 10:12" in text(ann)
    assert "Accepted" not in ann and "arrives" not in ann
    assert 'id="count-stood-down">1<' in html
    assert banner(html)[1].startswith("ACTIVE Waiting for answers from Primary: 1 of 2 accepts (1 stood down).")


def test_a_cell_shows_the_alerts_own_state_and_the_updates_beside_it(console, k9, dispatcher, clock):
    EscalationPolicy.objects.create(unit=k9, quorum=2)
    callout = launch(k9, dispatcher)
    tasks.sweep()
    answer(callout, "Ann", "accept")
    clock.shift(timedelta(minutes=2))
    callout_send_update(callout=callout, text="RV moved", actor=dispatcher)
    clock.shift(timedelta(minutes=2))
    callout_send_update(callout=callout, text="Found", actor=dispatcher, stand_down=True)
    tasks.sweep()

    html = page(console, callout)

    ann = html[html.index(">Ann</a>"):html.index(">Ben</a>")]
    sms = re.findall(r'<td class="channel-cell">(.*?)</td>', ann, re.S)[1]
    assert text(sms) == "SMS: sent update 10:02 sent stand-down 10:04 sent"
    assert "×" not in sms


def test_an_update_shows_beside_the_answer(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    answer(callout, "Ann", "accept", eta_minutes=20)
    clock.shift(timedelta(minutes=5))
    callout_send_update(callout=callout, text="RV moved", actor=dispatcher)

    ann = text(page(console, callout))

    assert "Accepted · arrives ~10:20 (ETA 20 min) by sms at 10:00 update sent 10:05" in ann


def test_times_are_on_the_24_hour_clock_with_the_units_own_where_it_differs(console, k9, dispatcher, clock,
                                                                              settings):
    clock.shift(timedelta(hours=5))  # 15:00 UTC, 16:00 in London
    callout = launch(k9, dispatcher)

    assert "launched 15:00 (unit 16:00 BST) by dispatcher" in text(page(console, callout))

    settings.TIME_ZONE = "Europe/London"  # an operator in the unit's own zone reads one time
    assert "launched 16:00 by dispatcher" in text(page(console, callout))


def test_the_page_tells_its_script_the_operators_time_zone(console, k9, dispatcher, settings):
    settings.TIME_ZONE = "Europe/Berlin"

    assert 'data-time-zone="Europe/Berlin"' in page(console, launch(k9, dispatcher))


# The callouts list


def test_the_callouts_list_puts_exhausted_and_overdue_callouts_first_in_red(console, no_secondary, dispatcher,
                                                                            clock):
    launch(no_secondary, dispatcher, incident_ref="OVERDUE")
    clock.shift(timedelta(minutes=1))
    exhausted = launch(no_secondary, dispatcher, incident_ref="EXHAUSTED")
    callout_escalate_now(callout=exhausted, actor=dispatcher)
    clock.shift(timedelta(minutes=1))
    calm = launch(no_secondary, dispatcher, incident_ref="CALM")
    answer(calm, "Ann", "accept")
    clock.shift(timedelta(minutes=4, seconds=1))  # the first one's wait ran out 31 s ago and nothing escalated it

    response = console.get(reverse("admin:callouts_callout_changelist"))

    assert [c.incident_ref for c in response.context["cl"].result_list] == ["EXHAUSTED", "OVERDUE", "CALM"]
    html = response.content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", html[html.index("<tbody>"):], re.S)
    states = [text(re.search(r'<td class="field-state_badge">(.*?)</td>', row, re.S).group(1)) for row in rows[:3]]
    assert states == ["Exhausted", "Active Overdue", "Filled"]
    assert 'class="callout-state callout-state-exhausted"' in rows[0]
    assert 'class="callout-overdue"' in rows[1]


def test_the_callouts_list_shows_launch_times_on_the_24_hour_clock(console, k9, dispatcher, clock):
    clock.shift(timedelta(hours=5))
    launch(k9, dispatcher)

    html = console.get(reverse("admin:callouts_callout_changelist")).content.decode()

    assert "3 Jun 2026 15:00 (unit 16:00 BST)" in html
    assert "p.m." not in html
