"""The alert call: Twilio fetches our TwiML, the person presses 1 or 2, then keys in an ETA."""

import xml.etree.ElementTree as ET

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from callouts.models import Callout, Delivery, ResponseRecord
from callouts.services.callouts import (
    callout_cancel,
    callout_close,
    callout_launch,
    callout_respond,
    callout_send_update,
)

TOKEN = "test-twilio-auth-token"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SITE_URL = "https://muster.example"


@pytest.fixture
def callout(k9, operator):
    return callout_launch(unit=k9, message="Missing child, Riverside Park", incident_ref="INC-1", actor=operator)


@pytest.fixture
def call(callout):
    """Ann's voice alert, as created at launch (it goes out after her delay without an answer)."""
    return Delivery.objects.get(recipient__callout=callout, recipient__person__full_name="Ann", channel="voice")


def url(name: str, delivery: Delivery) -> str:
    return settings.SITE_URL + reverse(f"callouts:{name}", args=[delivery.id])


def twilio_posts(client, name: str, delivery: Delivery, **params) -> ET.Element:
    """Post as Twilio would, signed, and return the parsed TwiML (which must be well-formed XML)."""
    params = {"CallSid": "CA0001", "From": "+447700900001", "To": delivery.address, **params}
    signature = RequestValidator(TOKEN).compute_signature(url(name, delivery), params)
    response = client.post(reverse(f"callouts:{name}", args=[delivery.id]), params,
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def spoken(twiml: ET.Element) -> str:
    return " ".join(say.text for say in twiml.iter("Say"))


def ann(callout):
    return callout.recipients.get(person__full_name="Ann")


def test_the_call_reads_the_alert_and_offers_the_menu_twice_then_says_goodbye(client, call):
    twiml = twilio_posts(client, "twilio_voice_call", call)
    gathers = twiml.findall("Gather")
    assert len(gathers) == 2
    for gather in gathers:
        assert gather.get("action") == url("twilio_voice_answer", call)
        assert (gather.get("numDigits"), gather.get("method")) == ("1", "POST")
        said = [say.text for say in gather.iter("Say")]
        assert said == [call.body, "Press 1 to accept, 2 to decline."]
        assert "Missing child, Riverside Park" in said[0]
    assert [child.tag for child in twiml] == ["Gather", "Gather", "Say", "Hangup"]
    assert "Goodbye" in twiml.find("Say").text


def test_pressing_1_accepts_and_asks_for_an_eta(client, callout, call):
    twiml = twilio_posts(client, "twilio_voice_answer", call, Digits="1")
    assert ann(callout).response == "accept"
    gather = twiml.find("Gather")
    assert gather.get("action") == url("twilio_voice_eta", call)
    assert (gather.get("numDigits"), gather.get("finishOnKey")) == ("3", "#")
    assert "Enter your E.T.A. in minutes, then press hash" in spoken(gather)


def test_pressing_1_then_20_accepts_with_an_eta_of_20_minutes(client, callout, call):
    twilio_posts(client, "twilio_voice_answer", call, Digits="1")
    twiml = twilio_posts(client, "twilio_voice_eta", call, Digits="20")
    recipient = ann(callout)
    assert (recipient.response, recipient.eta_minutes, recipient.response_channel) == ("accept", 20, "voice")
    assert list(recipient.history.values_list("response", "eta_minutes", "channel")) == [
        ("accept", None, "voice"), ("accept", 20, "voice"),
    ]
    assert "20 minutes" in spoken(twiml)
    assert twiml.find("Hangup") is not None
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED


def test_an_eta_out_of_range_is_asked_for_again(client, callout, call):
    twilio_posts(client, "twilio_voice_answer", call, Digits="1")
    twiml = twilio_posts(client, "twilio_voice_eta", call, Digits="999")
    assert twiml.find("Gather").get("action") == url("twilio_voice_eta", call)
    assert ann(callout).eta_minutes is None


def test_pressing_2_declines_and_says_goodbye(client, callout, call):
    twiml = twilio_posts(client, "twilio_voice_answer", call, Digits="2")
    assert ann(callout).response == "decline"
    assert twiml.find("Gather") is None
    assert "declined" in spoken(twiml)
    assert twiml.find("Hangup") is not None


@pytest.mark.parametrize("digits", ["9", "0", "*", ""])
def test_any_other_key_plays_the_menu_again_and_records_nothing(client, call, digits):
    twiml = twilio_posts(client, "twilio_voice_answer", call, Digits=digits)
    assert [gather.get("action") for gather in twiml.findall("Gather")] == [url("twilio_voice_answer", call)] * 2
    assert not ResponseRecord.objects.exists()


def test_the_answer_is_audited_with_the_voice_channel_and_the_called_person_as_actor(client, callout, call, k9):
    twilio_posts(client, "twilio_voice_answer", call, From="+15005550006", Digits="2")
    entry = LogEntry.objects.get(additional_data__event="callout_response")
    assert entry.additional_data["channel"] == "voice"
    assert entry.actor == k9.people["Ann"].user


def test_a_call_for_a_cancelled_callout_says_so_and_offers_no_menu(client, callout, call, operator):
    callout_cancel(callout=callout, actor=operator, reason="Child found")
    twiml = twilio_posts(client, "twilio_voice_call", call)
    assert twiml.find("Gather") is None
    assert "cancelled" in spoken(twiml)


def test_a_key_pressed_after_the_callout_closed_is_refused_politely(client, callout, call, operator):
    callout_close(callout=callout, actor=operator, outcome="Done")
    twiml = twilio_posts(client, "twilio_voice_answer", call, Digits="1")
    assert "closed" in spoken(twiml)
    assert twiml.find("Hangup") is not None
    assert not ResponseRecord.objects.exists()


def test_an_update_call_is_read_out_without_a_menu(client, callout, operator):
    ann_recipient = ann(callout)
    callout_respond(recipient=ann_recipient, response="accept", channel="app")
    callout_send_update(callout=callout, text="Subject found safe", actor=operator, stand_down=True,
                        by_voice=True)  # an update goes by call only when the operator asks
    update = Delivery.objects.get(recipient=ann_recipient, kind="update", channel="voice")
    twiml = twilio_posts(client, "twilio_voice_call", update)
    assert twiml.find("Gather") is None
    assert "STAND DOWN. Subject found safe" in spoken(twiml)


def test_a_delivery_by_another_channel_is_not_found(client, callout):
    sms = Delivery.objects.filter(recipient__callout=callout, channel="sms").first()
    path = reverse("callouts:twilio_voice_call", args=[sms.id])
    signature = RequestValidator(TOKEN).compute_signature(settings.SITE_URL + path, {})
    assert client.post(path, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 404


@pytest.mark.parametrize("name", ["twilio_voice_call", "twilio_voice_answer", "twilio_voice_eta"])
def test_an_unsigned_request_is_refused(client, call, name):
    response = client.post(reverse(f"callouts:{name}", args=[call.id]), {"Digits": "1"})
    assert response.status_code == 403
    assert not ResponseRecord.objects.exists()


@pytest.mark.parametrize("switched_off", ["person", "login"])
def test_a_deactivated_persons_keypress_is_refused_records_nothing_and_is_audited(client, callout, call, k9,
                                                                                switched_off):
    person = k9.people["Ann"]
    if switched_off == "person":
        type(person).objects.filter(pk=person.pk).update(active=False)
    else:
        type(person.user).objects.filter(pk=person.user_id).update(is_active=False)

    menu = twilio_posts(client, "twilio_voice_call", call)
    pressed = twilio_posts(client, "twilio_voice_answer", call, Digits="1")
    eta = twilio_posts(client, "twilio_voice_eta", call, Digits="15")

    for twiml in (menu, pressed, eta):
        assert "Your Muster account is disabled" in spoken(twiml)
        assert twiml.find("Gather") is None
    assert ann(callout).response == "none"
    assert not ResponseRecord.objects.exists()
    refused = LogEntry.objects.filter(additional_data__event="response_refused")
    assert [e.additional_data["channel"] for e in refused] == ["voice", "voice"]
