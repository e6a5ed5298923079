"""Twilio's delivery-status callbacks: signed, forward only, and a failure brings the next channel forward."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from callouts import tasks
from callouts.models import Delivery, RecordedMessage
from callouts.services.callouts import callout_launch
from tests.twilio_double import AUTH_TOKEN, twilio_signature

STATUS_PATH = "/webhooks/twilio/status/"


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


@pytest.fixture
def callout(k9, operator):
    """Alerts have gone out to the primary list; their voice calls wait for the one-minute delay."""
    launched = callout_launch(unit=k9, message="Missing child, Riverside Park", actor=operator)
    tasks.sweep()
    return launched


def delivery_of(callout, name: str, channel: str) -> Delivery:
    return Delivery.objects.get(recipient__callout=callout, recipient__person__full_name=name, channel=channel)


def report(delivery: Delivery, status: str, client: Client | None = None, signature: str | None = None, **extra):
    if delivery.channel == "voice":
        params = {"CallSid": delivery.provider_message_id, "CallStatus": status}
    else:
        params = {"MessageSid": delivery.provider_message_id, "SmsSid": delivery.provider_message_id,
                  "MessageStatus": status, "SmsStatus": status}
    params.update(AccountSid="AC123", To=delivery.address, **extra)
    if signature is None:
        signature = twilio_signature(settings.SITE_URL + STATUS_PATH, params)
    return (client or Client()).post(STATUS_PATH, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_signed_delivered_report_marks_the_sms_delivered(callout):
    sms = delivery_of(callout, "Ann", "sms")
    response = report(sms, "delivered", client=Client(enforce_csrf_checks=True))
    assert response.status_code == 204
    sms.refresh_from_db()
    assert sms.state == Delivery.State.DELIVERED


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_report_without_a_valid_signature_is_refused_and_changes_nothing(callout, signature):
    sms = delivery_of(callout, "Ann", "sms")
    assert report(sms, "delivered", signature=signature).status_code == 403
    sms.refresh_from_db()
    assert sms.state == Delivery.State.SENT


def test_report_signed_with_another_accounts_token_is_refused(callout):
    sms = delivery_of(callout, "Ann", "sms")
    params = {"MessageSid": sms.provider_message_id, "MessageStatus": "delivered"}
    forged = twilio_signature(settings.SITE_URL + STATUS_PATH, params, auth_token="someone-elses-token")
    assert Client().post(STATUS_PATH, params, HTTP_X_TWILIO_SIGNATURE=forged).status_code == 403


def test_replayed_and_late_reports_never_move_a_delivery_back(callout):
    sms = delivery_of(callout, "Ann", "sms")
    for status in ["delivered", "delivered", "sent", "queued", "undelivered"]:
        assert report(sms, status, ErrorCode="30003").status_code == 204
    sms.refresh_from_db()
    assert (sms.state, sms.error_code) == (Delivery.State.DELIVERED, "")


def test_delivered_arriving_before_sent_ends_delivered(callout):
    sms = delivery_of(callout, "Ann", "sms")
    report(sms, "delivered")
    report(sms, "sent")
    sms.refresh_from_db()
    assert sms.state == Delivery.State.DELIVERED


def test_undelivered_sms_fails_and_brings_the_call_forward_at_once(callout):
    sms = delivery_of(callout, "Ann", "sms")
    assert report(sms, "undelivered", ErrorCode="30003").status_code == 204
    sms.refresh_from_db()
    assert (sms.state, sms.error_code) == (Delivery.State.FAILED, "30003")
    assert delivery_of(callout, "Ann", "voice").due_at == timezone.now()
    assert delivery_of(callout, "Ben", "voice").due_at == timezone.now() + timedelta(minutes=1)
    tasks.sweep()
    called = RecordedMessage.objects.filter(delivery__recipient__callout=callout, channel="voice")
    assert [m.delivery.recipient.person.full_name for m in called] == ["Ann"]


def test_a_replayed_failure_changes_nothing_the_second_time(callout, clock):
    sms = delivery_of(callout, "Ann", "sms")
    report(sms, "failed", ErrorCode="30008")
    clock.shift(timedelta(seconds=5))
    report(sms, "failed", ErrorCode="30008")
    sms.refresh_from_db()
    assert sms.updated_at == timezone.now() - timedelta(seconds=5)


def test_call_reports_move_the_call_from_ringing_to_completed(callout, clock):
    clock.shift(timedelta(minutes=1))
    tasks.sweep()
    call = delivery_of(callout, "Ann", "voice")
    report(call, "ringing")
    call.refresh_from_db()
    assert call.state == Delivery.State.SENT
    report(call, "completed")
    call.refresh_from_db()
    assert call.state == Delivery.State.DELIVERED


def test_unanswered_call_fails_with_the_reason(callout, clock):
    clock.shift(timedelta(minutes=1))
    tasks.sweep()
    call = delivery_of(callout, "Ann", "voice")
    report(call, "no-answer")
    call.refresh_from_db()
    assert (call.state, call.error_code) == (Delivery.State.FAILED, "no-answer")


def test_report_for_a_message_we_do_not_know_is_accepted_and_logged(callout, caplog):
    params = {"MessageSid": "SM00000000000000000000000000000000", "MessageStatus": "delivered"}
    signature = twilio_signature(settings.SITE_URL + STATUS_PATH, params)
    response = Client().post(STATUS_PATH, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 204
    assert "unknown message SM00000000000000000000000000000000" in caplog.text
    assert not Delivery.objects.filter(state=Delivery.State.DELIVERED).exists()


def test_report_without_a_sid_touches_no_delivery(callout):
    params = {"MessageSid": "", "MessageStatus": "failed"}
    signature = twilio_signature(settings.SITE_URL + STATUS_PATH, params)
    assert Client().post(STATUS_PATH, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204
    assert not Delivery.objects.filter(state=Delivery.State.FAILED).exists()


def test_report_naming_the_delivery_settles_a_send_whose_provider_id_was_never_stored(callout):
    sms = delivery_of(callout, "Ben", "sms")
    Delivery.objects.filter(pk=sms.pk).update(state=Delivery.State.SENDING, provider_message_id="")
    path = f"{STATUS_PATH}?delivery={sms.pk}"
    params = {"MessageSid": "SMlate", "MessageStatus": "delivered", "AccountSid": "AC123"}
    response = Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(settings.SITE_URL + path, params))
    assert response.status_code == 204
    sms.refresh_from_db()
    assert (sms.state, sms.provider_message_id) == (Delivery.State.DELIVERED, "SMlate")


def test_report_naming_another_deliverys_message_does_not_move_this_one(callout):
    ann, ben = delivery_of(callout, "Ann", "sms"), delivery_of(callout, "Ben", "sms")
    path = f"{STATUS_PATH}?delivery={ben.pk}"
    params = {"MessageSid": ann.provider_message_id, "MessageStatus": "delivered", "AccountSid": "AC123"}
    Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(settings.SITE_URL + path, params))
    ann.refresh_from_db()
    ben.refresh_from_db()
    assert (ann.state, ben.state) == (Delivery.State.DELIVERED, Delivery.State.SENT)
