"""Callouts through the API: responders see and answer what they were alerted for, operators launch and act.

The helpers at the top (role_user, launch_for) are shared by the other API test modules.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.utils import timezone

from callouts.models import Callout, EscalationPolicy, Recipient, ResponseRecord
from callouts.need import Need
from callouts.services.callouts import callout_close, callout_launch, callout_respond, callout_send_update
from tests.factories import add_member, make_person
from units.models import FixedRule, Membership, Qualification

CALLOUTS = "/api/v1/callouts/"


def role_user(group: str, *, unit=None, name: str | None = None):
    """A login in one of the role groups, with a person (a member of ``unit`` when given)."""
    person = make_person(name or f"{group[:-1]} Person")
    person.user.groups.add(Group.objects.get(name=group))
    if unit is not None:
        add_member(unit, person)
    return person.user


def launch_for(unit, *people, actor, tier: int = 1, **kwargs) -> Callout:
    """Launch a callout to ``unit`` with ``people`` always on its list at position ``tier``."""
    listed = unit.tiers.get(position=tier)
    for person in people:
        FixedRule.objects.get_or_create(tier=listed, person=person)
    kwargs.setdefault("message", "Armed suspect at Kennington Park; report to Lambeth")
    return callout_launch(unit=unit, actor=actor, **kwargs)


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.fixture
def operator(db):
    return role_user("Operators")


@pytest.fixture
def callout_a(unit_a, member_a, operator):
    return launch_for(unit_a, member_a, actor=operator, incident_ref="CAD-1001")


@pytest.fixture
def responder(api_client, member_a):
    return api_client(member_a.user)


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 6, 3, 10, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


# ---- what a responder sees -------------------------------------------------------------------------------


def test_a_responder_lists_the_callouts_they_were_alerted_for_open_first_then_newest(
        responder, unit_a, unit_b, member_a, member_b, operator):
    older = launch_for(unit_a, member_a, actor=operator, message="Older, still open")
    closed = launch_for(unit_a, member_a, actor=operator, message="Newest, closed")
    callout_close(callout=closed, actor=operator, outcome="Suspect detained")
    newer = launch_for(unit_a, member_a, actor=operator, message="Newer, open")
    Callout.objects.filter(pk=older.pk).update(launched_at=timezone.now() - timedelta(hours=2))
    launch_for(unit_b, member_b, actor=operator, message="Someone else's")

    response = responder.get(CALLOUTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [c["id"] for c in body["results"]] == [newer.pk, older.pk, closed.pk]
    assert [c["is_open"] for c in body["results"]] == [True, True, False]


def test_a_callout_reaches_a_responder_only_once_their_list_is_alerted(responder, unit_a, member_a, operator):
    first = make_person("First On Primary")
    FixedRule.objects.create(tier=unit_a.tiers.get(position=1), person=first)
    callout = launch_for(unit_a, member_a, actor=operator, tier=2)  # member_a on secondary, not yet alerted

    assert responder.get(CALLOUTS).json()["count"] == 0
    assert error(responder.get(f"{CALLOUTS}{callout.pk}/"), 404)["code"] == "not_found"


def test_a_callout_shows_message_unit_state_my_answer_and_the_counts(responder, callout_a, unit_a):
    response = responder.get(f"{CALLOUTS}{callout_a.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Armed suspect at Kennington Park; report to Lambeth"
    assert body["unit"] == {"id": unit_a.pk, "code": "a", "name": "Unit A"}
    assert (body["incident_ref"], body["state"], body["priority"], body["is_open"]) == (
        "CAD-1001", "active", "urgent", True)
    assert body["need"] == {"quorum": 1, "requirements": []}
    assert body["counts"] == {"accepted": 0, "declined": 0, "silent": 1}
    assert body["my_answer"]["response"] == "none"
    assert body["my_answer"]["tier_name"] == "Primary"
    assert body["launched_at"].endswith("Z")


def test_accepting_with_an_eta_records_it_like_any_other_channel(responder, callout_a, member_a):
    response = responder.post(f"{CALLOUTS}{callout_a.pk}/respond/",
                              {"response": "accept", "eta_minutes": 15, "note": "Coming from Brixton"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["my_answer"]["response"] == "accept"
    assert (body["my_answer"]["eta_minutes"], body["my_answer"]["note"]) == (15, "Coming from Brixton")
    assert body["my_answer"]["response_channel"] == "app"
    assert body["counts"] == {"accepted": 1, "declined": 0, "silent": 0}
    assert body["state"] == "filled"
    record = ResponseRecord.objects.get(recipient__callout=callout_a)
    assert (record.channel, record.actor, record.eta_minutes) == ("app", member_a.user, 15)


def test_an_answer_can_be_changed_while_the_callout_is_open(responder, callout_a):
    url = f"{CALLOUTS}{callout_a.pk}/respond/"
    responder.post(url, {"response": "accept", "eta_minutes": 10}, format="json")

    response = responder.post(url, {"response": "decline", "note": "Car broke down"}, format="json")

    assert response.json()["my_answer"]["response"] == "decline"
    assert response.json()["my_answer"]["eta_minutes"] is None
    assert response.json()["state"] == "exhausted"  # the only accept was withdrawn and nobody else is listed


def test_answering_a_closed_callout_is_a_conflict_with_a_clear_message(responder, callout_a, operator):
    callout_close(callout=callout_a, actor=operator, outcome="Stood down by control")

    response = responder.post(f"{CALLOUTS}{callout_a.pk}/respond/", {"response": "accept"}, format="json")

    err = error(response, 409)
    assert err["code"] == "conflict"
    assert err["message"] == "This callout is closed; answers are closed."
    assert Recipient.objects.get(callout=callout_a).response == "none"


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"response": "accept", "eta_minutes": 601}, "eta_minutes", "Ensure this value is less than or equal to 600."),
    ({"response": "accept", "eta_minutes": -1}, "eta_minutes", "Ensure this value is greater than or equal to 0."),
    ({"response": "accept", "eta_minutes": "soon"}, "eta_minutes", "A valid integer is required."),
    ({"response": "maybe"}, "response", '"maybe" is not a valid choice.'),
    ({}, "response", "This field is required."),
    ({"response": "accept", "note": "x" * 501}, "note", "Ensure this field has no more than 500 characters."),
])
def test_an_invalid_answer_is_refused_naming_the_field(responder, callout_a, body, field, message):
    response = responder.post(f"{CALLOUTS}{callout_a.pk}/respond/", body, format="json")

    assert error(response, 400)["fields"] == {field: [message]}
    assert Recipient.objects.get(callout=callout_a).response == "none"


def test_a_decline_that_comes_with_an_eta_is_recorded_as_a_decline_without_it(responder, callout_a):
    # A phone that sends its ETA field along with a decline must not have the decline lost: the list moves on
    # at once only when every decline is recorded.
    response = responder.post(f"{CALLOUTS}{callout_a.pk}/respond/", {"response": "decline", "eta_minutes": 5},
                              format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["my_answer"]["response"], response.json()["my_answer"]["eta_minutes"]) == (
        "decline", None)
    assert ResponseRecord.objects.get(recipient__callout=callout_a).eta_minutes is None


def test_accepting_without_an_eta_is_fine(responder, callout_a):
    response = responder.post(f"{CALLOUTS}{callout_a.pk}/respond/", {"response": "accept", "eta_minutes": None},
                              format="json")

    assert response.status_code == 200
    assert response.json()["my_answer"]["eta_minutes"] is None


def test_someone_who_sees_a_callout_but_was_not_alerted_cannot_answer_it(api_client, callout_a, operator):
    response = api_client(operator).post(f"{CALLOUTS}{callout_a.pk}/respond/", {"response": "accept"}, format="json")

    err = error(response, 403)
    assert err["message"] == "You were not alerted for this callout, so there is nothing to answer."


@pytest.mark.parametrize(("query", "expected"), [
    ({"state": "active"}, ["open one"]),
    ({"state": ["active", "closed"]}, ["open one", "closed one"]),
    ({"open": "false"}, ["closed one"]),
    ({"exercise": "true"}, ["closed one"]),
])
def test_callouts_can_be_filtered(api_client, unit_a, member_a, operator, query, expected):
    closed = launch_for(unit_a, member_a, actor=operator, message="closed one", exercise=True)
    callout_close(callout=closed, actor=operator, outcome="Done")
    launch_for(unit_a, member_a, actor=operator, message="open one")

    response = api_client(member_a.user).get(CALLOUTS, query)

    assert [c["message"] for c in response.json()["results"]] == expected


def test_callouts_can_be_filtered_by_unit_without_telling_hidden_units_apart(
        api_client, unit_a, unit_b, member_a, member_b, operator):
    launch_for(unit_a, member_a, actor=operator)
    launch_for(unit_b, member_b, actor=operator)
    client = api_client(member_a.user)

    assert client.get(CALLOUTS, {"unit": unit_a.pk}).json()["count"] == 1
    assert client.get(CALLOUTS, {"unit": unit_b.pk}).json()["count"] == 0
    assert client.get(CALLOUTS, {"unit": 999999}).json()["count"] == 0


@pytest.mark.parametrize("query", [{"state": "lost"}, {"unit": "abc"}, {"unit": "0"}, {"page": "9"}])
def test_a_bad_filter_or_page_is_an_error_not_an_empty_list(responder, callout_a, query):
    response = responder.get(CALLOUTS, query)

    assert response.status_code in (400, 404)
    assert response.json()["error"]["message"]


# ---- what an operator does -------------------------------------------------------------------------------


def launch_body(unit, **fields) -> dict:
    return {"unit": unit.pk, "message": "Firearms incident, rendezvous Vauxhall Cross", "incident_ref": "CAD-7",
            **fields}


def test_an_operator_launches_a_callout_that_alerts_the_primary_list(api_client, operator, unit_a, member_a):
    FixedRule.objects.create(tier=unit_a.tiers.get(position=1), person=member_a)

    response = api_client(operator).post(CALLOUTS, launch_body(unit_a, priority="high", exercise=True),
                                         format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    callout = Callout.objects.get(pk=body["id"])
    assert (callout.unit, callout.launched_by, callout.priority, callout.exercise) == (unit_a, operator, "high", True)
    assert callout.recipients.get().notified_at is not None
    assert body["counts"] == {"accepted": 0, "declined": 0, "silent": 1}
    assert body["my_answer"] is None


def test_a_launch_takes_the_need_it_is_given(api_client, operator, unit_a):
    Qualification.objects.create(code="medic", name="Tactical medic")
    need = {"quorum": 3, "requirements": [{"role": "team_leader"}, {"qualification": "medic", "count": 2}]}

    response = api_client(operator).post(CALLOUTS, launch_body(unit_a, need=need), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["need"] == {"quorum": 3, "requirements": [
        {"role": "team_leader", "count": 1}, {"qualification": "medic", "count": 2}]}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"unit": 999999}, {"unit": ['Invalid pk "999999" - object does not exist.']}),
    ({"message": ""}, {"message": ["This field may not be blank."]}),
    ({"priority": "whenever"}, {"priority": ['"whenever" is not a valid choice.']}),
    ({"need": {"quorum": 0}}, {"need.quorum": ["Ensure this value is greater than or equal to 1."]}),
    ({"need": {"quorum": 1, "requirements": [{"role": "team_leader", "qualification": "medic"}]}},
     {"need.requirements.0.non_field_errors": ["Give either a role or a qualification."]}),
    ({"need": {"quorum": 1, "requirements": [{"qualification": "astronaut"}]}},
     {"need.requirements.0.qualification": ["Object with code=astronaut does not exist."]}),
    ({"need": {"quorum": 1, "requirements": [{"role": "team_leader", "count": 2}]}},
     {"need.requirements": ["2 team leader is more than the 1 accept needed: a requirement cannot ask for more "
                            "than the quorum."]}),
    ({"need": {"quorum": 2, "requirements": [{"role": "team_leader"}, {"role": "team_leader"}]}},
     {"need.requirements": ["Team leader is asked for twice: give it once, with the number needed."]}),
])
def test_an_invalid_launch_is_refused_naming_the_field(api_client, operator, unit_a, fields, expected):
    Qualification.objects.create(code="medic", name="Tactical medic")

    response = api_client(operator).post(CALLOUTS, {**launch_body(unit_a), **fields}, format="json")

    assert error(response, 400)["fields"] == expected
    assert not Callout.objects.exists()


def test_an_inactive_unit_cannot_be_called_out(api_client, operator, unit_a):
    unit_a.active = False
    unit_a.save()

    response = api_client(operator).post(CALLOUTS, launch_body(unit_a), format="json")

    assert error(response, 400)["fields"] == {"unit": [f'Invalid pk "{unit_a.pk}" - object does not exist.']}


def test_a_launch_retried_with_its_idempotency_key_returns_the_first_callout(api_client, operator, unit_a):
    client = api_client(operator)
    first = client.post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="cad-7-launch")

    retry = client.post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="cad-7-launch")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert Callout.objects.count() == 1
    callout = Callout.objects.get()
    assert (callout.idempotency_key, callout.idempotency_origin, callout.launched_by) == (
        "cad-7-launch", "api", operator)


def test_two_logins_using_the_same_idempotency_key_launch_two_callouts(api_client, operator, unit_a):
    other = role_user("Operators", name="Other Operator")
    first = api_client(operator).post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="k1")

    second = api_client(other).post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_a_key_used_for_one_unit_is_refused_for_another_and_that_unit_is_not_paged(api_client, operator, unit_a,
                                                                                    unit_b, member_a, member_b):
    FixedRule.objects.create(tier=unit_a.tiers.get(position=1), person=member_a)
    FixedRule.objects.create(tier=unit_b.tiers.get(position=1), person=member_b)
    client = api_client(operator)
    first = client.post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")

    response = client.post(CALLOUTS, launch_body(unit_b), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")

    assert first.status_code == 201
    err = error(response, 422)
    assert err["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in err["message"] and "cad-7" in err["message"]
    assert list(Callout.objects.values_list("unit", flat=True)) == [unit_a.pk]
    assert not Recipient.objects.filter(person=member_b).exists()


@pytest.mark.parametrize("change", [
    {"message": "Firearms incident, rendezvous at Lambeth Bridge instead"},
    {"incident_ref": "CAD-8"},
    {"priority": "normal"},
    {"exercise": True},
    {"need": {"quorum": 2}},
])
def test_the_same_key_with_any_other_part_of_the_launch_changed_is_refused(api_client, operator, unit_a, change):
    client = api_client(operator)
    client.post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")

    response = client.post(CALLOUTS, launch_body(unit_a, **change), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")

    assert error(response, 422)["code"] == "idempotency_key_reused"
    assert Callout.objects.count() == 1


def test_a_retry_is_the_same_request_whatever_the_order_of_its_fields(api_client, operator, unit_a):
    Qualification.objects.create(code="medic", name="Tactical medic")
    client = api_client(operator)
    need = {"quorum": 2, "requirements": [{"qualification": "medic"}]}
    first = client.post(CALLOUTS, launch_body(unit_a, need=need, priority="urgent"), format="json",
                        HTTP_IDEMPOTENCY_KEY="cad-7")

    retry = client.post(CALLOUTS, dict(reversed(launch_body(unit_a, need={**need, "requirements": [
        {"count": 1, "qualification": "medic"}]}).items())), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]


def test_a_retry_without_a_need_gets_the_first_callout_even_after_the_policy_changed(api_client, operator, unit_a):
    client = api_client(operator)
    first = client.post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")
    EscalationPolicy.objects.update_or_create(unit=unit_a, defaults={"quorum": 3})

    retry = client.post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY="cad-7")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["need"] == first.json()["need"] == {"quorum": 1, "requirements": []}


@pytest.mark.parametrize("key", ["has spaces", "x" * 65, ""])
def test_a_malformed_idempotency_key_is_refused(api_client, operator, unit_a, key):
    response = api_client(operator).post(CALLOUTS, launch_body(unit_a), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert error(response, 400)["fields"] == {"Idempotency-Key": ["Up to 64 printable characters without spaces."]}
    assert not Callout.objects.exists()


def test_escalating_alerts_the_next_list_now(api_client, operator, unit_a, member_a):
    second = make_person("Second On Secondary")
    FixedRule.objects.create(tier=unit_a.tiers.get(position=2), person=second)
    callout = launch_for(unit_a, member_a, actor=operator)

    response = api_client(operator).post(f"{CALLOUTS}{callout.pk}/escalate/")

    assert response.status_code == 200, response.content
    assert response.json()["counts"]["silent"] == 2
    assert Recipient.objects.get(callout=callout, person=second).notified_at is not None


def test_escalating_a_callout_that_is_no_longer_active_is_a_conflict(api_client, operator, callout_a):
    callout_close(callout=callout_a, actor=operator, outcome="Done")

    response = api_client(operator).post(f"{CALLOUTS}{callout_a.pk}/escalate/")

    assert error(response, 409)["message"] == "This callout is closed; it cannot be escalated."


def test_cancelling_stands_down_and_needs_a_reason(api_client, operator, callout_a):
    client = api_client(operator)
    assert error(client.post(f"{CALLOUTS}{callout_a.pk}/cancel/", {}, format="json"), 400)["fields"] == {
        "reason": ["This field is required."]}

    response = client.post(f"{CALLOUTS}{callout_a.pk}/cancel/", {"reason": "Suspect found"}, format="json")

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["outcome"]) == ("cancelled", "Suspect found")
    again = client.post(f"{CALLOUTS}{callout_a.pk}/cancel/", {"reason": "Twice"}, format="json")
    assert error(again, 409)["message"] == "This callout is already cancelled."


def test_closing_records_the_outcome(api_client, operator, callout_a):
    client = api_client(operator)

    response = client.post(f"{CALLOUTS}{callout_a.pk}/close/", {"outcome": "Two arrests"}, format="json")

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["outcome"]) == ("closed", "Two arrests")
    assert response.json()["closed_at"]
    assert error(client.post(f"{CALLOUTS}{callout_a.pk}/close/", {"outcome": "x"}, format="json"), 409)


def test_a_supervisor_sees_their_units_callouts_and_may_not_act_on_them(api_client, unit_a, member_a, operator,
                                                                         callout_a):
    supervisor = role_user("Supervisors", unit=unit_a)
    add_member(unit_a, make_person("Team Leader"), Membership.Role.TEAM_LEADER)
    client = api_client(supervisor)

    assert client.get(f"{CALLOUTS}{callout_a.pk}/").status_code == 200
    response = client.post(f"{CALLOUTS}{callout_a.pk}/escalate/")

    assert error(response, 403)["message"] == "Only operators may launch callouts and act on them."


@pytest.mark.parametrize(("query", "field", "message"), [
    ("state=", "state", "Give a value, or leave the parameter out."),
    ("unit=", "unit", "Give a value, or leave the parameter out."),
    ("open=true&open=false", "open", "Give this parameter once."),
    ("open=yes", "open", "Use true or false."),
])
def test_an_empty_or_repeated_filter_is_refused_rather_than_ignored(responder, callout_a, query, field, message):
    response = responder.get(f"{CALLOUTS}?{query}")

    assert error(response, 400)["fields"][field] == [message]


def test_a_filter_that_takes_many_values_may_be_repeated(responder, callout_a):
    assert responder.get(f"{CALLOUTS}?state=active&state=filled").json()["count"] == 1


# ---- who is coming ---------------------------------------------------------------------------------------


@pytest.fixture
def team(unit_a, member_a, operator, clock):
    """A callout needing three, to Alice and two colleagues on unit A's primary list."""
    priya, sam = make_person("Priya Shah"), make_person("Sam Okafor")
    for person in (priya, sam):
        person.rank = "PC"
        person.save()
    callout = launch_for(unit_a, member_a, priya, sam, actor=operator, need=Need(quorum=3))
    return callout, {person.full_name: callout.recipients.get(person=person) for person in (member_a, priya, sam)}


def test_an_alerted_responder_sees_who_has_accepted_with_their_eta_oldest_answer_first(responder, team, clock):
    callout, recipients = team
    callout_respond(recipient=recipients["Sam Okafor"], response="accept", channel="sms", eta_minutes=20)
    clock.shift(timedelta(minutes=1))
    callout_respond(recipient=recipients["Priya Shah"], response="accept", channel="app")
    clock.shift(timedelta(minutes=1))
    callout_respond(recipient=recipients["Alice Member"], response="decline", channel="app")

    body = responder.get(f"{CALLOUTS}{callout.pk}/").json()

    assert body["accepted"] == [
        {"name": "PC Sam Okafor", "eta_minutes": 20, "responded_at": "2026-06-03T10:00:00Z"},
        {"name": "PC Priya Shah", "eta_minutes": None, "responded_at": "2026-06-03T10:01:00Z"},
    ]
    assert responder.get(CALLOUTS).json()["results"][0]["accepted"] == body["accepted"]


def test_someone_who_withdrew_or_was_stood_down_is_not_coming_until_they_accept_again(responder, team, operator,
                                                                                     clock):
    callout, recipients = team
    callout_respond(recipient=recipients["Sam Okafor"], response="accept", channel="sms", eta_minutes=20)
    callout_respond(recipient=recipients["Priya Shah"], response="accept", channel="app", eta_minutes=5)
    clock.shift(timedelta(minutes=1))
    callout_respond(recipient=recipients["Sam Okafor"], response="decline", channel="sms")
    callout_send_update(callout=callout, text="Enough cover", actor=operator, stand_down=True)
    assert responder.get(f"{CALLOUTS}{callout.pk}/").json()["accepted"] == []

    clock.shift(timedelta(minutes=1))
    callout_respond(recipient=recipients["Priya Shah"], response="accept", channel="app", eta_minutes=5)

    assert [a["name"] for a in responder.get(f"{CALLOUTS}{callout.pk}/").json()["accepted"]] == ["PC Priya Shah"]


def test_operators_see_who_is_coming_and_supervisors_who_were_not_alerted_do_not(api_client, team, unit_a, operator):
    callout, recipients = team
    callout_respond(recipient=recipients["Priya Shah"], response="accept", channel="app", eta_minutes=5)
    supervisor = api_client(role_user("Supervisors", unit=unit_a))

    assert [a["name"] for a in api_client(operator).get(f"{CALLOUTS}{callout.pk}/").json()["accepted"]] == [
        "PC Priya Shah"]
    seen = supervisor.get(f"{CALLOUTS}{callout.pk}/").json()
    assert seen["accepted"] is None and seen["counts"]["accepted"] == 1


def test_the_same_answer_sent_twice_is_taken_both_times_and_recorded_once(responder, callout_a, clock):
    url = f"{CALLOUTS}{callout_a.pk}/respond/"
    first = responder.post(url, {"response": "accept", "eta_minutes": 10}, format="json")
    clock.shift(timedelta(minutes=3))  # an answer queued offline, sent again when the phone is back

    again = responder.post(url, {"response": "accept", "eta_minutes": 10}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["my_answer"] == first.json()["my_answer"]
    assert ResponseRecord.objects.filter(recipient__callout=callout_a).count() == 1
    assert LogEntry.objects.filter(additional_data__event="callout_response").count() == 1
