"""Accept and Decline on a callout's notification: POST /api/v1/answer-links/ with the token the push carried."""

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import signing
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from callouts.channels.push import payload
from callouts.messages import LINK_SALT
from callouts.models import Delivery, Recipient, ResponseRecord
from callouts.push_answers import push_answer_token
from callouts.services.callouts import callout_close
from tests.api.test_callouts_api import launch_for, role_user
from units.models import ContactMethod
from units.services import person_deactivate

ANSWER = "/api/v1/answer-links/"


@pytest.fixture
def alerted(unit_a, member_a):
    """Alice's place on a callout, and the token of the push that alerted her (as the service worker got it)."""
    ContactMethod.objects.create(person=member_a, kind="push", address="https://fcm.googleapis.com/fcm/send/x",
                                 verified_at=timezone.now())
    callout = launch_for(unit_a, member_a, actor=role_user("Operators"))
    push = Delivery.objects.select_related("recipient__callout__unit").get(recipient__callout=callout, channel="push")
    recipient = callout.recipients.get(person=member_a)
    return recipient, payload(push)["answer"]["token"]


def test_accepting_from_the_notification_is_recorded_as_an_answer_by_push(anon_client, alerted, member_a):
    recipient, token = alerted

    response = anon_client.post(ANSWER, {"token": token, "response": "accept", "eta_minutes": 10}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"callout": recipient.callout_id, "response": "accept", "eta_minutes": 10}
    recipient.refresh_from_db()
    assert (recipient.response, recipient.eta_minutes, recipient.response_channel) == ("accept", 10, "push")
    record = ResponseRecord.objects.get(recipient=recipient)
    assert (record.channel, record.actor) == ("push", member_a.user)
    entry = LogEntry.objects.get(additional_data__event="callout_response")
    assert (entry.actor, entry.additional_data["channel"]) == (member_a.user, "push")
    assert recipient.callout.__class__.objects.get(pk=recipient.callout_id).state == "filled"


def test_declining_from_the_notification_drops_an_eta(anon_client, alerted):
    recipient, token = alerted

    response = anon_client.post(ANSWER, {"token": token, "response": "decline", "eta_minutes": 10}, format="json")

    assert response.json() == {"callout": recipient.callout_id, "response": "decline", "eta_minutes": None}


def test_the_same_answer_twice_is_taken_twice_and_recorded_once_and_a_change_of_mind_replaces_it(anon_client,
                                                                                                alerted):
    recipient, token = alerted
    accept = {"token": token, "response": "accept", "eta_minutes": 15}

    assert anon_client.post(ANSWER, accept, format="json").status_code == 200
    assert anon_client.post(ANSWER, accept, format="json").status_code == 200
    assert ResponseRecord.objects.filter(recipient=recipient).count() == 1

    decline = anon_client.post(ANSWER, {"token": token, "response": "decline"}, format="json")

    assert decline.json()["response"] == "decline"
    assert list(ResponseRecord.objects.filter(recipient=recipient).values_list("response", flat=True)) == [
        "accept", "decline"]


def test_an_answer_to_a_closed_callout_is_a_conflict(anon_client, alerted):
    recipient, token = alerted
    callout_close(callout=recipient.callout, actor=role_user("Operators", name="Other Operator"), outcome="Found")

    response = anon_client.post(ANSWER, {"token": token, "response": "accept"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == {"code": "conflict", "message": "This callout is closed; answers are closed.",
                                        "fields": {}}
    assert Recipient.objects.get(pk=recipient.pk).response == "none"


def test_a_person_who_may_no_longer_act_is_refused_and_the_refusal_audited(anon_client, alerted, member_a):
    recipient, token = alerted
    person_deactivate(person=member_a, actor=None)

    response = anon_client.post(ANSWER, {"token": token, "response": "accept"}, format="json")

    assert (response.status_code, response.json()["error"]["message"]) == (403, "Your Muster account is disabled.")
    assert Recipient.objects.get(pk=recipient.pk).response == "none"
    entry = LogEntry.objects.get(additional_data__event="response_refused")
    assert (entry.actor, entry.additional_data["channel"]) == (member_a.user, "push")


@pytest.mark.parametrize("forge", [
    lambda token, recipient: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
    lambda token, recipient: signing.dumps({"r": recipient.pk, "a": "accept"}, salt=LINK_SALT, compress=True),
    lambda token, recipient: "not a token",
], ids=["tampered", "an-email-links-token", "garbage"])
def test_a_forged_token_is_refused(anon_client, alerted, forge):
    recipient, token = alerted

    response = anon_client.post(ANSWER, {"token": forge(token, recipient), "response": "accept"}, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")
    assert Recipient.objects.get(pk=recipient.pk).response == "none"


def test_a_token_works_for_the_push_lifetime_and_a_day_and_no_longer(anon_client, alerted, settings):
    recipient, token = alerted
    settings.WEBPUSH_TTL = 900
    issued = timezone.now()

    with time_machine.travel(issued + timedelta(seconds=900 + 24 * 3600 + 1)):
        late = anon_client.post(ANSWER, {"token": token, "response": "accept"}, format="json")
    with time_machine.travel(issued + timedelta(seconds=900 + 24 * 3600 - 5)):
        in_time = anon_client.post(ANSWER, {"token": token, "response": "accept"}, format="json")

    assert late.status_code == 403
    assert in_time.status_code == 200


def test_a_token_answers_only_for_the_person_it_was_made_for(anon_client, alerted, unit_a, member_a):
    recipient, _ = alerted
    colleague = recipient.callout.recipients.create(person=role_user("Responders", unit=unit_a).person,
                                                    tier_position=1, tier_name="Primary",
                                                    notified_at=timezone.now())

    anon_client.post(ANSWER, {"token": push_answer_token(colleague.pk), "response": "accept"}, format="json")

    assert Recipient.objects.get(pk=recipient.pk).response == "none"
    assert Recipient.objects.get(pk=colleague.pk).response == "accept"


def test_answers_by_token_are_limited_per_address(anon_client, alerted, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")
    recipient, token = alerted

    statuses = [anon_client.post(ANSWER, {"token": "guess", "response": "accept"}, format="json").status_code
                for _ in range(2)]
    last = anon_client.post(ANSWER, {"token": token, "response": "accept"}, format="json")

    assert (statuses, last.status_code) == ([403, 403], 429)


@pytest.mark.parametrize(("body", "field"), [
    ({"response": "accept"}, "token"),
    ({"token": "t", "response": "maybe"}, "response"),
    ({"token": "t", "response": "accept", "eta_minutes": -1}, "eta_minutes"),
    ({"token": "t", "response": "accept", "eta_minutes": "10"}, "eta_minutes"),
])
def test_an_invalid_answer_is_refused_naming_the_field(anon_client, body, field, db):
    response = anon_client.post(ANSWER, body, format="json")

    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, [field])
