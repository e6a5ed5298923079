"""Text replies to a callout: what a reply means, and the signed Twilio webhook that records it."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from callouts import tasks
from callouts.models import Callout, InboundReply, ResponseRecord
from callouts.replies import MAX_ETA_MINUTES, Reply, parse_sms_reply
from callouts.services.callouts import callout_cancel, callout_launch

TOKEN = "test-twilio-auth-token"
SMS_PATH = "/webhooks/twilio/sms/"


# What a reply means

@pytest.mark.parametrize("text, expected", [
    ("Y", Reply("accept")),
    ("y", Reply("accept")),
    ("Yes", Reply("accept")),
    ("ACCEPT", Reply("accept")),
    ("  yes!  ", Reply("accept")),
    ("Y 15", Reply("accept", 15)),
    ("y15", Reply("accept", 15)),
    ("Y 15 mins", Reply("accept", 15)),
    ("Y15min.", Reply("accept", 15)),
    ("Y, 20", Reply("accept", 20)),
    ("Y 0", Reply("accept", 0)),
    ("Y 600", Reply("accept", 600)),
    ("N", Reply("decline")),
    ("no.", Reply("decline")),
    ("\nNO\n", Reply("decline")),
    ("decline", Reply("decline")),
])
def test_replies_we_understand(text, expected):
    assert parse_sms_reply(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "?", "maybe", "Yes please", "Y 601", "Y 1000", "Y -5", "N 15", "YN",
                                  "Y 1 5", "NOPE", "15", "Y 15 hours"])
def test_anything_else_is_not_an_answer(text):
    assert parse_sms_reply(text) is None


def mixed_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(word, upper, strict=True))
    )


accept_words = st.sampled_from(["y", "yes", "accept"]).flatmap(mixed_case)
edges = st.text(alphabet=" \t\n.!,;", max_size=3)


@given(word=accept_words, eta=st.integers(0, MAX_ETA_MINUTES), gap=st.sampled_from(["", " ", "  "]),
       unit=st.sampled_from(["", " min", "mins", " minutes"]), before=edges, after=edges)
def test_any_accept_with_minutes_in_range_is_an_accept_with_that_eta(word, eta, gap, unit, before, after):
    assert parse_sms_reply(f"{before}{word}{gap}{eta}{unit}{after}") == Reply("accept", eta)


@given(word=accept_words, eta=st.integers(MAX_ETA_MINUTES + 1, 999))
def test_an_eta_beyond_ten_hours_is_not_understood(word, eta):
    assert parse_sms_reply(f"{word} {eta}") is None


@given(st.text())
def test_no_text_breaks_the_parser_and_any_answer_is_well_formed(text):
    reply = parse_sms_reply(text)
    assert reply is None or reply.response in ("accept", "decline")
    if reply and reply.eta_minutes is not None:
        assert reply.response == "accept" and 0 <= reply.eta_minutes <= MAX_ETA_MINUTES


# The webhook

@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SITE_URL = "https://muster.example"


@pytest.fixture
def callout(k9, operator):
    callout = callout_launch(unit=k9, message="Missing child, Riverside Park", incident_ref="INC-1", actor=operator)
    tasks.sweep()
    return callout


def number(person) -> str:
    return person.contact_methods.get(kind="sms").address


def text(client, sender: str, body: str, *, token: str = TOKEN):
    params = {"MessageSid": "SM0001", "From": sender, "To": "+447700900000", "Body": body}
    signature = RequestValidator(token).compute_signature(settings.SITE_URL + SMS_PATH, params)
    return client.post(SMS_PATH, params, HTTP_X_TWILIO_SIGNATURE=signature)


def answer_to(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content).find("Message").text


def test_the_webhook_is_at_the_address_twilio_is_given():
    assert reverse("callouts:twilio_sms_inbound") == SMS_PATH


def test_y_accepts_and_the_reply_names_the_unit_and_incident(client, k9, callout):
    reply = answer_to(text(client, number(k9.people["Ann"]), "Y"))
    assert reply == "Accepted: Canine Unit INC-1. Reply N to withdraw."
    ann = callout.recipients.get(person__full_name="Ann")
    assert (ann.response, ann.eta_minutes, ann.response_channel) == ("accept", None, "sms")


def test_lower_case_y_with_minutes_accepts_with_that_eta(client, k9, callout):
    reply = answer_to(text(client, number(k9.people["Ben"]), "y 15"))
    assert reply == "Accepted: Canine Unit INC-1, ETA 15 min. Reply N to withdraw."
    assert callout.recipients.get(person__full_name="Ben").eta_minutes == 15


def test_n_declines(client, k9, callout):
    reply = answer_to(text(client, number(k9.people["Cat"]), "N"))
    assert reply == "Declined: Canine Unit INC-1. Reply Y to accept after all."
    assert callout.recipients.get(person__full_name="Cat").response == "decline"


def test_anything_else_gets_help_and_records_nothing(client, k9, callout):
    reply = answer_to(text(client, number(k9.people["Ann"]), "On my way?"))
    assert reply == "Reply Y to accept, Y 15 for ETA 15 min, N to decline."
    assert not ResponseRecord.objects.exists()


def test_a_text_not_understood_is_kept_for_the_operator_and_audited(client, k9, callout):
    text(client, number(k9.people["Ann"]), "On my way, 10 mins")
    kept = InboundReply.objects.get()
    assert (kept.recipient.person.full_name, kept.channel, kept.body, kept.understood) == (
        "Ann", "sms", "On my way, 10 mins", False)
    entry = LogEntry.objects.get(additional_data__event="callout_reply_not_understood")
    assert (entry.object_pk, entry.changes_text) == (str(callout.pk), "Ann: On my way, 10 mins")


def test_an_answer_is_kept_as_it_came_too(client, k9, callout):
    text(client, number(k9.people["Ben"]), "y 15")
    assert list(InboundReply.objects.values_list("body", "understood")) == [("y 15", True)]
    assert not LogEntry.objects.filter(additional_data__event="callout_reply_not_understood").exists()


def test_a_text_from_a_number_on_no_callout_is_not_kept(client, callout):
    text(client, "+447911999999", "hello")
    assert not InboundReply.objects.exists()


def test_an_unknown_number_gets_a_polite_reply(client, callout):
    assert answer_to(text(client, "+447911999999", "Y")) == "No active callout for this number."
    assert not ResponseRecord.objects.exists()


def test_a_sender_that_is_not_a_phone_number_gets_the_same_polite_reply(client, callout):
    assert answer_to(text(client, "MUSTER", "Y")) == "No active callout for this number."


def test_someone_not_yet_alerted_cannot_answer_by_text(client, k9, callout):
    assert answer_to(text(client, number(k9.people["Dan"]), "Y")) == "No active callout for this number."
    assert callout.recipients.get(person__full_name="Dan").response == "none"


def test_a_text_from_the_persons_voice_number_counts_too(client, k9, callout):
    voice_number = k9.people["Ann"].contact_methods.get(kind="voice").address
    assert answer_to(text(client, voice_number, "Y")).startswith("Accepted")


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_a_request_without_a_valid_signature_is_refused(client, k9, callout, signature):
    params = {"From": number(k9.people["Ann"]), "Body": "Y"}
    headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}
    assert client.post(SMS_PATH, params, **headers).status_code == 403
    assert not ResponseRecord.objects.exists()


def test_a_request_signed_with_another_token_is_refused(client, k9, callout):
    assert text(client, number(k9.people["Ann"]), "Y", token="someone-elses-token").status_code == 403


def test_a_request_signed_for_another_host_is_refused(client, k9, callout):
    params = {"From": number(k9.people["Ann"]), "Body": "Y"}
    signature = RequestValidator(TOKEN).compute_signature("https://attacker.example" + SMS_PATH, params)
    assert client.post(SMS_PATH, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403


def test_without_an_auth_token_configured_every_request_is_refused(client, k9, callout, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert text(client, number(k9.people["Ann"]), "Y", token="").status_code == 403


def test_a_reply_to_a_cancelled_callout_says_so_and_records_nothing(client, k9, callout, operator):
    callout_cancel(callout=callout, actor=operator, reason="Child found")
    reply = answer_to(text(client, number(k9.people["Ann"]), "Y"))
    assert reply == "Canine Unit INC-1: This callout is cancelled; answers are closed."
    assert not ResponseRecord.objects.exists()


def test_a_decline_after_accepting_frees_the_place(client, k9, callout, clock):
    ann = number(k9.people["Ann"])
    text(client, ann, "Y 10")
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED
    clock.shift(timedelta(minutes=1))
    text(client, ann, "N")
    callout.refresh_from_db()
    assert callout.state == Callout.State.ACTIVE
    assert callout.escalate_at is not None


def test_the_latest_answer_wins_and_every_answer_is_kept(client, k9, callout, clock):
    ann = number(k9.people["Ann"])
    for body in ("Y 10", "N", "Y 25"):
        text(client, ann, body)
        clock.shift(timedelta(seconds=30))
    recipient = callout.recipients.get(person__full_name="Ann")
    assert (recipient.response, recipient.eta_minutes) == ("accept", 25)
    assert list(recipient.history.values_list("response", "eta_minutes", "channel")) == [
        ("accept", 10, "sms"), ("decline", None, "sms"), ("accept", 25, "sms"),
    ]


def test_the_answer_is_audited_with_its_channel_and_the_person_as_actor(client, k9, callout):
    text(client, number(k9.people["Ben"]), "Y 15")
    entry = LogEntry.objects.get(additional_data__event="callout_response")
    assert entry.additional_data["channel"] == "sms"
    assert entry.additional_data["eta_minutes"] == 15
    assert entry.actor == k9.people["Ben"].user


def test_with_two_open_callouts_the_reply_answers_the_newest_and_names_it(client, k9, callout, operator, clock):
    clock.shift(timedelta(minutes=1))
    newer = callout_launch(unit=k9, message="Burglary suspects on foot", incident_ref="INC-2", actor=operator)
    tasks.sweep()
    reply = answer_to(text(client, number(k9.people["Ann"]), "Y"))
    assert "INC-2" in reply
    assert newer.recipients.get(person__full_name="Ann").response == "accept"
    assert callout.recipients.get(person__full_name="Ann").response == "none"


def test_once_the_newer_callout_closes_replies_go_to_the_older_one_still_open(client, k9, callout, operator, clock):
    clock.shift(timedelta(minutes=1))
    newer = callout_launch(unit=k9, message="Burglary suspects on foot", incident_ref="INC-2", actor=operator)
    tasks.sweep()
    callout_cancel(callout=newer, actor=operator, reason="Arrested")
    assert "INC-1" in answer_to(text(client, number(k9.people["Ann"]), "Y"))
    assert callout.recipients.get(person__full_name="Ann").response == "accept"


def test_the_webhook_only_takes_posts(client):
    signature = RequestValidator(TOKEN).compute_signature(settings.SITE_URL + SMS_PATH, {})
    assert client.get(SMS_PATH, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 405


@pytest.mark.parametrize("switched_off", ["person", "login"])
def test_a_deactivated_persons_text_is_refused_records_nothing_and_is_audited(client, k9, callout, switched_off):
    person = k9.people["Ann"]
    if switched_off == "person":
        type(person).objects.filter(pk=person.pk).update(active=False)
    else:
        type(person.user).objects.filter(pk=person.user_id).update(is_active=False)

    reply = answer_to(text(client, number(person), "Y 10"))

    assert reply == "Your Muster account is disabled: this answer was not recorded. Call your control room."
    assert callout.recipients.get(person=person).response == "none"
    assert not ResponseRecord.objects.exists()
    refused = LogEntry.objects.get(additional_data__event="response_refused")
    assert (refused.additional_data["channel"], refused.additional_data["person"]) == ("sms", person.pk)
