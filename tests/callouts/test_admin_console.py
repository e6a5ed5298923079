import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from callouts import tasks
from callouts.health import TIMERS_DOWN
from callouts.models import Callout, Delivery, EscalationPolicy, Heartbeat, NeedRequirement, RecordedMessage, TierWait
from callouts.need import Need, Requirement
from callouts.services.callouts import callout_close, callout_launch, callout_respond
from tests.callouts.conftest import reachable_person
from tests.factories import add_member, login_verified, make_unit
from tests.page_forms import submitted
from units.models import FixedRule, Membership, Qualification
from units.services import device_enrol

LAUNCH_URL = reverse("admin:callouts_callout_launch")


@pytest.fixture
def dispatcher(db):
    user = get_user_model().objects.create_user("dispatcher", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def console(client, dispatcher):
    return login_verified(client, dispatcher)


@pytest.fixture
def timers_running(clock):
    beat()


def launch_form_data(client, unit, **fields) -> dict:
    """The launch form of the unit as the page shows it, with a message and an incident reference typed in."""
    page = client.get(LAUNCH_URL, {"unit": unit.pk})
    return submitted(page.content, having="message", **{
        "message": "Missing child, Riverside Park. RV north gate.", "incident_ref": "INC-7", **fields})


def launch_through_console(client, unit, **fields):
    data = launch_form_data(client, unit, **fields)
    client.post(LAUNCH_URL, data)
    return client.post(LAUNCH_URL, {**data, "confirm": "Launch callout now"})


def launch(unit, actor, **kwargs):
    return callout_launch(unit=unit, message="Missing child", actor=actor, **{"incident_ref": "INC-1", **kwargs})


def live_json(client, callout) -> dict:
    response = client.get(reverse("admin:callouts_callout_live_json", args=[callout.pk]))
    assert response.status_code == 200
    return response.json()


def person(data: dict, name: str) -> dict:
    return next(p for tier in data["tiers"] for p in tier["people"] if p["name"] == name)


def action(client, callout, name, **data):
    return client.post(reverse(f"admin:callouts_callout_{name}", args=[callout.pk]), data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def events(callout) -> list[str]:
    return list(LogEntry.objects.filter(object_pk=str(callout.pk), additional_data__event__isnull=False)
                .order_by("id").values_list("additional_data__event", flat=True))


# Launch


def test_launch_without_a_unit_asks_which_unit_first(console, k9):
    response = console.get(LAUNCH_URL)

    assert response.status_code == 200
    assert "picker" in response.context
    assert b"Canine Unit" in response.content


def test_launch_form_takes_the_need_from_the_units_escalation_policy(console, k9):
    medic = Qualification.objects.create(code="medic", name="Tactical medic")
    policy = EscalationPolicy.objects.create(unit=k9, quorum=3)
    NeedRequirement.objects.create(policy=policy, role=Membership.Role.TEAM_LEADER, count=1)
    NeedRequirement.objects.create(policy=policy, qualification=medic)

    form = console.get(LAUNCH_URL, {"unit": k9.pk}).context["form"]

    assert form.initial["quorum"] == 3
    assert [(row["requirement"].value(), row["count"].value()) for row in form.requirements] == [
        ("role:team_leader", 1), ("qualification:medic", 1), (None, None), (None, None), (None, None)]
    assert form.initial["idempotency_key"]


def test_first_post_shows_who_will_be_alerted_and_launches_nothing(console, k9):
    response = console.post(LAUNCH_URL, launch_form_data(console, k9))

    assert response.status_code == 200
    assert "You are about to alert 3 people on Canine Unit Primary: Ann, Ben, Cat" in " ".join(
        response.content.decode().split())
    assert "Secondary: Dan, Eve" in response.content.decode()
    assert not Callout.objects.exists()


def test_confirmation_names_the_first_list_with_anyone_on_it_and_each_person_once(console, k9):
    FixedRule.objects.filter(tier__position=1).delete()

    response = console.post(LAUNCH_URL, launch_form_data(console, k9))

    assert "You are about to alert 2 people on Canine Unit Secondary: Dan, Eve" in " ".join(
        response.content.decode().split())


def test_confirmation_names_a_person_on_two_lists_only_on_the_first(console, k9):
    FixedRule.objects.create(tier=k9.tiers.get(position=1), person=k9.people["Dan"])

    response = console.post(LAUNCH_URL, launch_form_data(console, k9))

    content = " ".join(response.content.decode().split())
    assert "alert 4 people on Canine Unit Primary: Ann, Ben, Cat, Dan" in content
    assert "Secondary: Eve" in content


def test_confirmation_warns_when_nobody_is_on_any_list(console, k9):
    FixedRule.objects.all().delete()
    k9.tiers.get(position=2).rotations.all().delete()

    response = console.post(LAUNCH_URL, launch_form_data(console, k9))

    assert "Nobody is on any of Canine Unit" in " ".join(response.content.decode().split())


def test_confirming_launches_and_opens_the_live_page(console, k9, dispatcher):
    response = launch_through_console(console, k9)

    callout = Callout.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:callouts_callout_live", args=[callout.pk])
    assert (callout.unit, callout.incident_ref, callout.launched_by) == (k9, "INC-7", dispatcher)
    assert callout.recipients.count() == 5
    assert set(Delivery.objects.filter(recipient__callout=callout).values_list(
        "recipient__person__full_name", flat=True)) == {"Ann", "Ben", "Cat"}
    entry = LogEntry.objects.get(additional_data__event="callout_launched")
    assert entry.actor == dispatcher


def test_a_double_click_on_confirm_launches_once(console, k9):
    data = launch_form_data(console, k9)
    first = console.post(LAUNCH_URL, {**data, "confirm": "Launch callout now"})
    second = console.post(LAUNCH_URL, {**data, "confirm": "Launch callout now"})

    assert Callout.objects.count() == 1
    assert first.url == second.url


def test_launch_freezes_the_need_chosen_in_the_form(console, k9, medic):
    launch_through_console(console, k9, quorum=2, exercise="on", priority="high", **{
        "requirements-0-requirement": "role:team_leader", "requirements-0-count": "1",
        "requirements-1-requirement": "qualification:medic", "requirements-1-count": "",  # left empty: one
    })

    callout = Callout.objects.get()
    assert callout.frozen_need == Need(quorum=2, requirements=(
        Requirement(kind="role", code="team_leader", count=1), Requirement(kind="qualification", code="medic")))
    assert (callout.exercise, callout.priority) == (True, "high")


@pytest.fixture
def medic(db):
    return Qualification.objects.create(code="medic", name="Tactical medic")


@pytest.fixture
def two_medics_and_a_commander(k9, medic):
    """The Canine Unit's policy: three accepts, of whom two tactical medics and one commander."""
    policy = EscalationPolicy.objects.create(unit=k9, quorum=3)
    NeedRequirement.objects.create(policy=policy, qualification=medic, count=2)
    NeedRequirement.objects.create(policy=policy, role=Membership.Role.COMMANDER, count=1)
    return policy


def check_and_confirm(client, page, **typed):
    """Submit the launch form as the browser shows it (with ``typed`` typed over it), then confirm the preview."""
    typed = {"message": "Missing child, Riverside Park. RV north gate.", **typed}
    preview = client.post(LAUNCH_URL, submitted(page.content, having="message", **typed))
    assert preview.status_code == 200 and "launch-confirm" in preview.content.decode(), form_errors(preview)
    confirmed = client.post(LAUNCH_URL, submitted(preview.content, having="message", confirm="Launch callout now"))
    return preview, confirmed


def form_errors(response) -> str:
    form = response.context["form"] if response.context and "form" in response.context else None
    return str(form.errors if form is not None else response.content[:500])


def test_launching_from_the_admin_without_touching_the_need_launches_exactly_the_policys_need(
        console, k9, two_medics_and_a_commander):
    page = console.get(LAUNCH_URL, {"unit": k9.pk})

    preview, confirmed = check_and_confirm(console, page, message="Armed suspect, Riverside Park")

    callout = Callout.objects.get()
    assert confirmed.url == reverse("admin:callouts_callout_live", args=[callout.pk])
    assert "Filled when 3 accepts, including 2 medic and 1 commander" in text_of(preview)
    assert live_json(console, callout)["need"] == "3 accepts, including 2 medic and 1 commander"


def test_the_launch_form_changes_removes_and_adds_requirements(console, k9, two_medics_and_a_commander, medic):
    page = console.get(LAUNCH_URL, {"unit": k9.pk})
    rows = submitted(page.content, having="message")
    commander_row = next(name.removesuffix("-requirement") for name, value in rows.items()
                         if value == ["role:commander"])
    empty_row = next(name.removesuffix("-requirement") for name, value in rows.items()
                     if name.endswith("-requirement") and value == [""])

    _, confirmed = check_and_confirm(console, page, **{
        "requirements-0-count": "1", f"{commander_row}-DELETE": "on",
        f"{empty_row}-requirement": "role:team_leader", f"{empty_row}-count": "1",
    })

    assert confirmed.status_code == 302
    assert live_json(console, Callout.objects.get())["need"] == "3 accepts, including 1 medic and 1 team leader"


def test_a_requirement_asking_more_than_the_quorum_is_a_form_error_and_launches_nothing(
        console, k9, two_medics_and_a_commander):
    page = console.get(LAUNCH_URL, {"unit": k9.pk})

    response = console.post(LAUNCH_URL, submitted(page.content, having="message", quorum="1", confirm="x"))

    assert response.status_code == 200
    assert "2 medic is more than the 1 accept needed" in text_of(response)
    assert not Callout.objects.exists()


def test_a_requirement_listed_twice_is_a_form_error(console, k9, two_medics_and_a_commander):
    page = console.get(LAUNCH_URL, {"unit": k9.pk})

    response = console.post(LAUNCH_URL, submitted(page.content, having="message", **{
        "requirements-2-requirement": "role:commander", "requirements-2-count": "1"}))

    assert "Commander is asked for twice" in text_of(response)
    assert "launch-confirm" not in response.content.decode()


def test_launch_form_with_no_message_shows_the_error_and_launches_nothing(console, k9):
    response = console.post(LAUNCH_URL, {**launch_form_data(console, k9), "message": "", "confirm": "x"})

    assert response.status_code == 200
    assert response.context["form"].errors["message"]
    assert not Callout.objects.exists()


def test_go_back_from_the_confirmation_keeps_what_was_typed(console, k9):
    data = launch_form_data(console, k9, message="Flood at the weir")

    response = console.post(LAUNCH_URL, {**data, "edit": "Go back and change"})

    assert response.context["form"]["message"].value() == "Flood at the weir"
    assert not Callout.objects.exists()


def test_the_same_launch_form_confirmed_again_for_another_callout_launches_nothing_and_says_why(console, k9):
    page = console.get(LAUNCH_URL, {"unit": k9.pk})
    _, first = check_and_confirm(console, page)

    # The operator goes back in the browser, changes the message and confirms the old form again.
    preview, again = check_and_confirm(console, page, message="Flood at the weir")

    callout = Callout.objects.get()
    assert callout.message == "Missing child, Riverside Park. RV north gate."
    assert again.status_code == 200
    assert "already launched another callout" in text_of(again)
    assert reverse("admin:callouts_callout_live", args=[callout.pk]) in again.content.decode()


@pytest.mark.parametrize("planted", ["api:{other}:CAD-7", "api:{me}:CAD-7", "CAD-7"])
def test_an_api_key_planted_in_the_admin_form_never_returns_an_api_callout(console, k9, dispatcher, planted):
    other = get_user_model().objects.create_user("control-room")
    other.groups.add(Group.objects.get(name="Operators"))
    for user in (other, dispatcher):
        api_launch(user, k9, key="CAD-7")
    data = launch_form_data(console, k9, idempotency_key=planted.format(other=other.pk, me=dispatcher.pk))

    response = console.post(LAUNCH_URL, {**data, "confirm": "Launch callout now"})

    assert response.status_code == 200
    assert "This launch form was not made by Muster: check the details and launch again." in text_of(response)
    assert Callout.objects.count() == 2
    # The form comes back with a key of Muster's own, so the operator can launch once it is checked.
    _, confirmed = check_and_confirm(console, response)
    assert Callout.objects.get(pk=confirmed.url.split("/")[-3]).launched_by == dispatcher


def test_an_admin_launch_never_returns_an_api_callout_with_the_same_key(console, k9, dispatcher):
    page = console.get(LAUNCH_URL, {"unit": k9.pk})
    key = submitted(page.content, having="message")["idempotency_key"][0]
    api_callout = api_launch(dispatcher, k9, key=key)

    _, confirmed = check_and_confirm(console, page)

    assert confirmed.status_code == 302
    assert confirmed.url != reverse("admin:callouts_callout_live", args=[api_callout])
    assert Callout.objects.count() == 2


def api_launch(user, unit, *, key: str) -> int:
    _, token, _ = device_enrol(user=user, name="Control room", platform="web")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    body = {"unit": unit.pk, "message": "Missing child, Riverside Park. RV north gate.", "incident_ref": "INC-7"}
    response = client.post("/api/v1/callouts/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def text_of(response) -> str:
    """The page's words as a person reads them, one space between any two."""
    return " ".join(re.sub(r"<[^>]*>", " ", response.content.decode()).split())


def test_unit_page_has_a_launch_button_prefilled_with_the_unit(console, k9):
    response = console.get(reverse("admin:units_unit_change", args=[k9.pk]))

    assert f'href="{LAUNCH_URL}?unit={k9.pk}"' in response.content.decode()


def test_admin_index_has_a_callouts_box(console, k9):
    content = console.get(reverse("admin:index")).content.decode()

    assert 'id="callouts-module"' in content
    assert LAUNCH_URL in content


# Live page


def test_live_page_lists_each_list_and_person_with_the_countdown(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    tasks.sweep()
    clock.shift(timedelta(seconds=75))

    response = console.get(reverse("admin:callouts_callout_live", args=[callout.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    for text in ("Primary", "Secondary", "Ann", "Eve", "Missing child", "1 accept", "3:45", "1:15"):
        assert text in content
    assert 'data-until="2026-06-03T10:05:00+00:00"' in content


def test_live_json_shows_delivery_states_and_answers(console, k9, dispatcher, clock):
    EscalationPolicy.objects.create(unit=k9, quorum=2)
    callout = launch(k9, dispatcher)
    tasks.sweep()
    callout_respond(recipient=callout.recipients.get(person__full_name="Ann"), response="accept", channel="sms",
                    eta_minutes=12, note="Coming from home")
    callout_respond(recipient=callout.recipients.get(person__full_name="Ben"), response="decline", channel="app")

    data = live_json(console, callout)

    ann, ben, cat, dan = (person(data, name) for name in ("Ann", "Ben", "Cat", "Dan"))
    assert (ann["response"], ann["eta_minutes"], ann["note"], ann["response_channel"]) == (
        "accept", 12, "Coming from home", "sms")
    assert ben["response"] == "decline"
    assert [d["state"] for d in cat["channels"]["sms"]] == ["sent"]
    assert [d["state"] for d in cat["channels"]["voice"]] == ["pending"]
    assert [d["state"] for d in ann["channels"]["voice"]] == ["cancelled"]
    assert dan["channels"] == {} and dan["notified_at"] is None
    assert data["counts"] == {"accepted": 1, "declined": 1, "silent": 1, "waiting": 2}
    assert (data["state"], data["escalate_at"]) == ("active", "2026-06-03T10:05:00+00:00")
    assert "Accepted" in data["html"] and "ETA 12 min" in data["html"]


def test_live_json_counts_down_to_the_next_escalation(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    clock.shift(timedelta(seconds=90))

    data = live_json(console, callout)

    assert data["escalate_at"] == "2026-06-03T10:05:00+00:00"
    assert data["now"] == "2026-06-03T10:01:30+00:00"
    assert data["launched_at"] == "2026-06-03T10:00:00+00:00"


def unit_with_primary_of(size: int, code: str):
    unit = make_unit(code)
    primary = unit.tiers.get(position=1)
    for n in range(size):
        member = reachable_person(f"{code} {n}", n)
        add_member(unit, member)
        FixedRule.objects.create(tier=primary, person=member)
    return unit


def test_live_json_takes_the_same_number_of_queries_for_5_or_50_people(console, dispatcher, clock):
    def queries_for(size):
        callout = launch(unit_with_primary_of(size, f"u{size}"), dispatcher)
        tasks.sweep()
        with CaptureQueriesContext(connection) as queries:
            live_json(console, callout)
        return len(queries)

    assert queries_for(5) == queries_for(50)


def test_live_page_of_an_unknown_callout_is_not_found(console, db):
    assert console.get(reverse("admin:callouts_callout_live", args=[999])).status_code == 404


# Actions


def test_escalate_now_alerts_the_next_list_and_is_audited(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    response = action(console, callout, "escalate")

    callout.refresh_from_db()
    assert response.url == reverse("admin:callouts_callout_live", args=[callout.pk])
    assert callout.current_tier == 2
    entry = LogEntry.objects.get(additional_data__event="callout_escalated")
    assert entry.actor == dispatcher


def test_add_people_alerts_them_and_is_audited(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    zoe = reachable_person("Zoe", 70)

    response = action(console, callout, "add_people", people=[zoe.pk])
    tasks.sweep()

    assert "1 people added and alerted." in messages_of(response)
    assert [t["name"] for t in live_json(console, callout)["tiers"]] == ["Primary", "Added by operator", "Secondary"]
    assert RecordedMessage.objects.filter(delivery__recipient__person=zoe, channel="push").exists()
    assert "callout_people_added" in events(callout)


def test_resend_by_voice_reaches_only_those_not_answering(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    tasks.sweep()
    callout_respond(recipient=callout.recipients.get(person__full_name="Ann"), response="decline", channel="app")

    response = action(console, callout, "resend", channel="voice")
    tasks.sweep()

    assert "Voice call sent again to 2 people who have not answered." in messages_of(response)
    voice_now = RecordedMessage.objects.filter(delivery__recipient__callout=callout, channel="voice")
    assert sorted(voice_now.values_list("delivery__recipient__person__full_name", flat=True)) == ["Ben", "Cat"]
    assert "callout_resent" in events(callout)


def test_update_and_stand_down_go_to_those_who_accepted(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    callout_respond(recipient=callout.recipients.get(person__full_name="Ben"), response="accept", channel="app")

    action(console, callout, "update", text="RV moved to the south gate")
    action(console, callout, "stand_down", text="Child found safe")
    tasks.sweep()

    updates = RecordedMessage.objects.filter(delivery__kind="update", channel="sms")
    assert {m.delivery.recipient.person.full_name for m in updates} == {"Ben"}
    assert any("RV moved to the south gate" in m.body for m in updates)
    assert any("STAND DOWN" in m.body and "Child found safe" in m.body for m in updates)
    assert {"callout_update", "callout_stand_down"} <= set(events(callout))


def test_cancel_stops_the_callout_with_its_reason(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    action(console, callout, "cancel", reason="Launched for the wrong unit")

    callout.refresh_from_db()
    assert (callout.state, callout.outcome) == ("cancelled", "Launched for the wrong unit")
    assert LogEntry.objects.get(additional_data__event="callout_cancelled").actor == dispatcher


def test_close_records_the_outcome(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    action(console, callout, "close", outcome="Child found by Ann and Dog Rex at 10:40")

    callout.refresh_from_db()
    assert (callout.state, callout.outcome) == ("closed", "Child found by Ann and Dog Rex at 10:40")
    assert "callout_closed" in events(callout)


def test_an_action_the_callout_no_longer_allows_shows_a_message_not_an_error(console, k9, dispatcher):
    callout = launch(k9, dispatcher)
    callout_close(callout=callout, actor=dispatcher, outcome="Done")

    response = action(console, callout, "escalate")

    assert response.status_code == 302
    assert messages_of(response) == ["This callout is closed; it cannot be escalated."]


def test_cancel_without_a_reason_is_refused_with_a_message(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    response = action(console, callout, "cancel", reason="")

    callout.refresh_from_db()
    assert callout.state == "active"
    assert messages_of(response) == ["Reason: This field is required."]


def test_actions_accept_only_post(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    assert console.get(reverse("admin:callouts_callout_escalate", args=[callout.pk])).status_code == 405


# Callouts list and read-only admins


def test_callout_list_shows_open_callouts_first_then_newest_with_counts(console, k9, dispatcher, clock):
    older_open = launch(k9, dispatcher)
    clock.shift(timedelta(minutes=1))
    closed = launch(k9, dispatcher, incident_ref="")
    callout_close(callout=closed, actor=dispatcher, outcome="Done")
    clock.shift(timedelta(minutes=1))
    newest_open = launch(k9, dispatcher)
    callout_respond(recipient=older_open.recipients.get(person__full_name="Ann"), response="accept", channel="app")
    callout_respond(recipient=older_open.recipients.get(person__full_name="Ben"), response="decline", channel="app")

    response = console.get(reverse("admin:callouts_callout_changelist"))

    rows = list(response.context["cl"].result_list)
    assert rows == [newest_open, older_open, closed]
    assert (rows[1].accepted, rows[1].declined, rows[1].silent, rows[1].current_list) == (1, 1, 1, "Primary")
    assert "Launch callout" in response.content.decode()


def test_callout_list_takes_the_same_queries_however_many_callouts(console, k9, dispatcher):
    def list_queries():
        with CaptureQueriesContext(connection) as queries:
            console.get(reverse("admin:callouts_callout_changelist"))
        return len(queries)

    launch(k9, dispatcher)
    one = list_queries()
    for _ in range(4):
        launch(k9, dispatcher)

    assert list_queries() == one


def test_callout_change_page_opens_the_live_page(console, k9, dispatcher):
    callout = launch(k9, dispatcher)

    response = console.get(reverse("admin:callouts_callout_change", args=[callout.pk]))

    assert response.url == reverse("admin:callouts_callout_live", args=[callout.pk])


@pytest.mark.parametrize("model", ["callout", "recipient", "delivery", "recordedmessage"])
def test_nobody_deletes_or_edits_the_callout_trail_in_the_admin(k9, model):
    chief = get_user_model().objects.create_superuser("chief", password="x" * 12)
    client = login_verified(Client(), chief)
    callout = launch(k9, chief)
    tasks.sweep()
    obj = {"callout": callout, "recipient": callout.recipients.first(),
           "delivery": Delivery.objects.first(), "recordedmessage": RecordedMessage.objects.first()}[model]

    assert client.get(reverse(f"admin:callouts_{model}_delete", args=[obj.pk])).status_code == 403
    assert client.get(reverse(f"admin:callouts_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:callouts_{model}_change", args=[obj.pk]), {}).status_code in (302, 403)
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_operators_can_inspect_deliveries_filtered_by_state_and_channel(console, k9, dispatcher):
    launch(k9, dispatcher)
    tasks.sweep()

    response = console.get(reverse("admin:callouts_delivery_changelist"), {"state": "pending", "channel": "voice"})

    assert response.status_code == 200
    assert {d.channel for d in response.context["cl"].result_list} == {"voice"}
    assert len(response.context["cl"].result_list) == 3


# Escalation policy


@pytest.fixture
def chief_client(client, db):
    chief = get_user_model().objects.create_user("chief", is_staff=True)
    chief.groups.add(Group.objects.get(name="Administrators"))
    return login_verified(client, chief)


def test_policy_waits_can_be_set_only_for_the_units_own_lists(chief_client, k9):
    other = make_unit("tsu")
    policy = EscalationPolicy.objects.create(unit=k9)

    response = chief_client.get(reverse("admin:callouts_escalationpolicy_change", args=[policy.pk]))

    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.model is TierWait).formset
    assert set(formset.form.base_fields["tier"].queryset) == set(k9.tiers.all())
    assert not set(other.tiers.all()) & set(formset.form.base_fields["tier"].queryset)


def test_policy_edited_in_the_admin_drives_the_next_callout(chief_client, k9, dispatcher):
    policy = EscalationPolicy.objects.create(unit=k9)
    primary = k9.tiers.get(position=1)
    url = reverse("admin:callouts_escalationpolicy_change", args=[policy.pk])
    data = {
        "wait_minutes": 5, "quorum": 2, "move_on_when_hopeless": "on", "repeat_count": 1,
        "fallback_to_operators": "on",
        "tier_waits-TOTAL_FORMS": 1, "tier_waits-INITIAL_FORMS": 0,
        "tier_waits-0-tier": primary.pk, "tier_waits-0-wait_minutes": 2,
        "requirements-TOTAL_FORMS": 1, "requirements-INITIAL_FORMS": 0,
        "requirements-0-role": "team_leader", "requirements-0-count": 1,
    }

    response = chief_client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    callout = launch(k9, dispatcher)
    assert callout.frozen_policy.wait_seconds(1) == 120
    assert callout.frozen_need == Need(quorum=2, requirements=(Requirement(kind="role", code="team_leader"),))


@pytest.mark.parametrize(("quorum", "rows", "problem"), [
    (1, [("team_leader", 2)], "2 team leader is more than the 1 accept needed"),
    (3, [("commander", 1), ("commander", 1)], "Commander is asked for twice"),
])
def test_a_policy_whose_requirements_no_launch_could_ask_for_is_refused(chief_client, k9, quorum, rows, problem):
    policy = EscalationPolicy.objects.create(unit=k9)
    data = {
        "wait_minutes": 5, "quorum": quorum, "move_on_when_hopeless": "on", "repeat_count": 0,
        "tier_waits-TOTAL_FORMS": 0, "tier_waits-INITIAL_FORMS": 0,
        "requirements-TOTAL_FORMS": len(rows), "requirements-INITIAL_FORMS": 0,
        **{f"requirements-{n}-{name}": value for n, (role, count) in enumerate(rows)
           for name, value in (("role", role), ("count", count))},
    }

    response = chief_client.post(reverse("admin:callouts_escalationpolicy_change", args=[policy.pk]), data)

    assert response.status_code == 200
    assert problem in text_of(response)
    assert not policy.requirements.exists()


def test_unit_without_a_policy_is_offered_a_new_one_from_its_page(chief_client, k9):
    response = chief_client.get(reverse("admin:callouts_escalationpolicy_unit", args=[k9.pk]))

    assert response.url == f"{reverse('admin:callouts_escalationpolicy_add')}?unit={k9.pk}"


def test_operators_read_the_policy_of_a_unit_without_one_as_the_defaults(console, k9):
    response = console.get(reverse("admin:callouts_escalationpolicy_unit", args=[k9.pk]), follow=True)

    assert "wait 5 minutes on each list and need 1 accept" in response.content.decode()


# Watchdog banner


def beat(*names):
    """What a running worker and beat leave behind: a heartbeat and a sweep just now."""
    for name in names or ("worker", "sweep"):
        Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})


def test_banner_warns_when_an_escalation_is_more_than_30_seconds_overdue(console, k9, dispatcher, clock):
    launch(k9, dispatcher)

    clock.shift(timedelta(minutes=5, seconds=30))
    beat()
    assert "Escalation overdue" not in console.get(reverse("admin:index")).content.decode()
    clock.shift(timedelta(seconds=1))
    beat()
    content = console.get(reverse("admin:index")).content.decode()

    assert "Escalation overdue on k9: INC-1 by 31 s: fall back to phoning" in content


def test_banner_warns_when_a_message_is_stuck_sending(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    Delivery.objects.filter(recipient__callout=callout, channel="sms").update(
        state="sending", send_deadline=timezone.now() - timedelta(seconds=1))
    beat()

    content = console.get(reverse("admin:index")).content.decode()

    assert "3 message(s) stuck sending with no outcome from the provider" in content


def test_watchdog_logs_each_problem_as_an_error(k9, dispatcher, clock, caplog):
    launch(k9, dispatcher)
    clock.shift(timedelta(minutes=6))

    tasks.watchdog()

    assert [r.levelname for r in caplog.records if "Escalation overdue" in r.getMessage()] == ["ERROR"]


def test_banner_warns_when_timers_have_stopped(console, k9, clock):
    beat()

    clock.shift(timedelta(seconds=30))
    beat("sweep")
    clock.shift(timedelta(seconds=30))
    assert TIMERS_DOWN not in console.get(reverse("admin:index")).content.decode()
    clock.shift(timedelta(seconds=1))
    assert TIMERS_DOWN in console.get(reverse("admin:index")).content.decode()


def test_banner_warns_when_heartbeats_go_on_but_no_sweep_has_run_for_30_seconds(console, k9, clock):
    # A worker that drops every sweep (as one whose clock ran ahead of beat's did) still runs the heartbeat.
    beat()
    for _ in range(3):
        clock.shift(timedelta(seconds=10))
        beat("worker")
    assert TIMERS_DOWN not in console.get(reverse("admin:index")).content.decode()
    clock.shift(timedelta(seconds=1))
    beat("worker")
    assert TIMERS_DOWN in console.get(reverse("admin:index")).content.decode()


def test_banner_names_a_worker_host_whose_clock_is_off_the_databases(console, k9, clock):
    beat()
    Heartbeat.objects.create(name="clock@worker-2", beat_at=timezone.now(), clock_skew=-30.4)
    Heartbeat.objects.create(name="clock@worker-1", beat_at=timezone.now(), clock_skew=1.5)

    content = console.get(reverse("admin:index")).content.decode()

    assert "The clock of worker host worker-2 is 30 s behind the database&#x27;s: fix its time (NTP)." in content
    assert "worker-1" not in content
    clock.shift(timedelta(minutes=6))  # a host that stopped reporting is not news
    beat()
    assert "worker-2" not in console.get(reverse("admin:index")).content.decode()


def test_banner_warns_when_no_worker_has_ever_beaten(console, db):
    assert TIMERS_DOWN in console.get(reverse("admin:index")).content.decode()


def test_no_banner_when_timers_run_and_nothing_is_overdue(console, k9, dispatcher, timers_running):
    launch(k9, dispatcher)

    content = console.get(reverse("admin:index")).content.decode()

    assert 'id="callout-banner" class="messagelist" role="alert" hidden' in content


def test_banner_is_for_those_who_watch_callouts(k9, clock):
    responder = get_user_model().objects.create_user("responder", is_staff=True)
    responder.groups.add(Group.objects.get(name="Responders"))

    content = login_verified(Client(), responder).get(reverse("admin:index")).content.decode()

    assert TIMERS_DOWN not in content


def test_live_json_carries_the_banner_so_the_live_page_shows_it_without_reloading(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)

    assert live_json(console, callout)["problems"] == [TIMERS_DOWN]


def test_the_console_pages_run_no_inline_code(console, k9, dispatcher, clock):
    from tests.csp import inline_code

    data = launch_form_data(console, k9)
    confirm = console.post(LAUNCH_URL, data)
    callout = launch(k9, dispatcher)
    pages = [console.get(LAUNCH_URL), console.get(LAUNCH_URL, {"unit": k9.pk}), confirm,
             console.get(reverse("admin:callouts_callout_live", args=[callout.pk])),
             console.get(reverse("admin:callouts_callout_changelist"))]

    assert [response.status_code for response in pages] == [200] * 5
    assert "Launch callout now" in confirm.content.decode()
    assert [inline_code(response) for response in pages] == [[]] * 5


def test_the_live_pages_poll_does_not_keep_the_session_alive(console, k9, dispatcher, clock):
    callout = launch(k9, dispatcher)
    live_url = reverse("admin:callouts_callout_live", args=[callout.pk])
    poll_url = reverse("admin:callouts_callout_live_json", args=[callout.pk])
    assert console.get(live_url).status_code == 200
    for _ in range(30):  # the page polls on its own; nobody touches it
        clock.shift(timedelta(seconds=59))
        assert console.get(poll_url).status_code == 200
    clock.shift(timedelta(seconds=31))

    response = console.get(poll_url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert console.get(live_url).status_code == 302


def test_the_live_page_shows_when_the_session_locks_and_a_click_keeps_it_alive(console, k9, dispatcher, clock):
    login_verified(console, dispatcher)  # at 10:00, on the test's clock
    callout = launch(k9, dispatcher)
    page = console.get(reverse("admin:callouts_callout_live", args=[callout.pk])).content.decode()
    assert 'data-locks-at="2026-06-03T10:30:00+00:00"' in page
    assert 'data-ends-at="2026-06-03T22:00:00+00:00"' in page  # 12 hours after the login, whatever happens
    clock.shift(timedelta(minutes=20))
    assert live_json(console, callout)["session_locks_at"] == "2026-06-03T10:30:00+00:00"

    keepalive = console.post(reverse("admin:session_keepalive"))  # what a click on the page sends

    assert keepalive.status_code == 200
    assert keepalive.json() == {"locks_at": "2026-06-03T10:50:00+00:00"}
    clock.shift(timedelta(minutes=29))
    assert live_json(console, callout)["session_locks_at"] == "2026-06-03T10:50:00+00:00"


def test_a_keepalive_without_the_csrf_token_is_refused(k9, dispatcher, clock):
    client = login_verified(Client(enforce_csrf_checks=True), dispatcher)

    assert client.post(reverse("admin:session_keepalive")).status_code == 403
