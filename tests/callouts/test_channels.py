"""The real channels against local stand-ins for their providers: Twilio's REST API, an SMTP server, a push service."""

import asyncio
import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import http_ece
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core import mail
from django.utils import timezone
from py_vapid import Vapid

from callouts import tasks
from callouts.channels import ChannelError
from callouts.channels.email import EmailChannel
from callouts.channels.push import WebPushChannel
from callouts.channels.sms import TwilioSMSChannel
from callouts.channels.voice import TwilioVoiceChannel
from callouts.models import Callout, Delivery, RecordedMessage
from callouts.push_answers import push_answer_recipient
from callouts.services.callouts import callout_launch, callout_respond, callout_send_update
from callouts.services.deliveries import deliveries_send
from tests.callouts.conftest import LAUNCH
from tests.push_double import b64url, subscribe_browser
from tests.twilio_double import FROM_NUMBER, twilio_double  # noqa: F401
from units.models import ContactMethod, PushSubscription

ROOT = Path(__file__).resolve().parent.parent.parent
STATUS_URL = "http://127.0.0.1:8000/webhooks/twilio/status/"


def launch(unit, operator):
    return callout_launch(unit=unit, message="Missing child, Riverside Park", incident_ref="INC-1", actor=operator)


def delivery_of(callout, name: str, channel: str) -> Delivery:
    return Delivery.objects.select_related("recipient").get(
        recipient__callout=callout, recipient__person__full_name=name, channel=channel
    )


def send_all_due(clock, until, done) -> None:
    """Sweep once a second, as beat does, until ``done()`` or the clock reaches ``until``."""
    while not done() and timezone.now() < until:
        tasks.sweep()
        clock.shift(timedelta(seconds=1))


# SMS and voice through the twilio library, against the local Twilio double

def test_sms_reaches_twilio_with_number_sender_body_and_status_callback(k9, operator, twilio_double):  # noqa: F811
    delivery = delivery_of(launch(k9, operator), "Ann", "sms")
    sid = TwilioSMSChannel().send(delivery)
    [request] = twilio_double.requests("Messages")
    assert request.params == {"To": delivery.address, "From": FROM_NUMBER, "Body": delivery.body,
                              "StatusCallback": f"{STATUS_URL}?delivery={delivery.pk}"}
    assert request.username == settings.TWILIO_ACCOUNT_SID
    assert sid == request.sid and sid.startswith("SM")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_sms_rate_limit_or_server_error_is_temporary(k9, operator, twilio_double, status):  # noqa: F811
    twilio_double.script("Messages", [status])
    with pytest.raises(ChannelError) as raised:
        TwilioSMSChannel().send(delivery_of(launch(k9, operator), "Ann", "sms"))
    assert not raised.value.permanent
    assert raised.value.code == str({429: 20429, 500: 20500, 503: 20503}[status])


@pytest.mark.parametrize("code", [21211, 21614, 21610])
def test_sms_refused_number_is_permanent_with_twilios_code(k9, operator, twilio_double, code):  # noqa: F811
    twilio_double.script("Messages", [(400, code)])
    with pytest.raises(ChannelError) as raised:
        TwilioSMSChannel().send(delivery_of(launch(k9, operator), "Ann", "sms"))
    assert raised.value.permanent
    assert raised.value.code == str(code)


def test_sms_whose_answer_never_comes_has_an_unknown_outcome(k9, operator, twilio_double, settings):  # noqa: F811
    settings.TWILIO_TIMEOUT = 0.2
    twilio_double.script("Messages", ["hang"])
    with pytest.raises(ChannelError) as raised:
        TwilioSMSChannel().send(delivery_of(launch(k9, operator), "Ann", "sms"))
    assert raised.value.unknown and not raised.value.permanent
    assert raised.value.code == "timeout"


def test_sms_when_twilio_cannot_be_reached_is_temporary(k9, operator, twilio_double, settings):  # noqa: F811
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(ChannelError) as raised:
        TwilioSMSChannel().send(delivery_of(launch(k9, operator), "Ann", "sms"))
    assert not raised.value.permanent and not raised.value.unknown
    assert raised.value.code == "network"


def test_sms_without_twilio_credentials_fails_for_good(k9, operator, twilio_double, settings):  # noqa: F811
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(ChannelError) as raised:
        TwilioSMSChannel().send(delivery_of(launch(k9, operator), "Ann", "sms"))
    assert raised.value.permanent
    assert twilio_double.requests("Messages") == []


def test_sms_with_credentials_twilio_refuses_fails_for_good(k9, operator, twilio_double, settings):  # noqa: F811
    settings.TWILIO_AUTH_TOKEN = "an-old-token"
    with pytest.raises(ChannelError) as raised:
        TwilioSMSChannel().send(delivery_of(launch(k9, operator), "Ann", "sms"))
    assert raised.value.permanent
    assert raised.value.code == "20003"


def test_voice_call_asks_twilio_to_fetch_this_deliverys_call_flow(k9, operator, twilio_double):  # noqa: F811
    delivery = delivery_of(launch(k9, operator), "Ann", "voice")
    sid = TwilioVoiceChannel().send(delivery)
    [request] = twilio_double.requests("Calls")
    assert request.params == {"To": delivery.address, "From": FROM_NUMBER,
                              "StatusCallback": f"{STATUS_URL}?delivery={delivery.pk}",
                              "Url": f"http://127.0.0.1:8000/webhooks/twilio/voice/{delivery.id}/"}
    assert sid == request.sid and sid.startswith("CA")


def test_voice_refused_number_is_permanent(k9, operator, twilio_double):  # noqa: F811
    twilio_double.script("Calls", [(400, 21211)])
    with pytest.raises(ChannelError) as raised:
        TwilioVoiceChannel().send(delivery_of(launch(k9, operator), "Ann", "voice"))
    assert raised.value.permanent


# SMS through the whole send path: leases, retries with backoff, failure and the next channel

@pytest.fixture
def sms_by_twilio(settings, twilio_double):  # noqa: F811
    settings.MUSTER_CHANNELS = {**settings.MUSTER_CHANNELS, "sms": "callouts.channels.sms.TwilioSMSChannel"}
    return twilio_double


def test_sms_retried_after_429_and_500_reaches_each_person_exactly_once(k9, operator, clock, sms_by_twilio):
    sms_by_twilio.script("Messages", [429, 500, 201])
    callout = launch(k9, operator)
    sms = Delivery.objects.filter(recipient__callout=callout, channel="sms")
    send_all_due(clock, until=LAUNCH + timedelta(seconds=30),
                 done=lambda: not sms.exclude(state=Delivery.State.SENT).exists())
    accepted = [r for r in sms_by_twilio.requests("Messages") if r.status == 201]
    assert sorted(r.params["To"] for r in accepted) == sorted(sms.values_list("address", flat=True))
    assert len(sms_by_twilio.requests("Messages")) == 5
    assert sorted(sms.values_list("provider_message_id", flat=True)) == sorted(r.sid for r in accepted)
    assert sorted(sms.values_list("attempts", flat=True)) == [1, 2, 2]


def test_sms_that_always_fails_ends_failed_and_the_call_comes_before_its_delay(k9, operator, clock, sms_by_twilio):
    sms_by_twilio.always("Messages", 500)
    callout = launch(k9, operator)
    sms = Delivery.objects.filter(recipient__callout=callout, channel="sms")
    send_all_due(clock, until=LAUNCH + timedelta(seconds=59),
                 done=lambda: not sms.exclude(state=Delivery.State.FAILED).exists())
    assert set(sms.values_list("state", "attempts", "error_code")) == {
        (Delivery.State.FAILED, settings.DELIVERY_MAX_ATTEMPTS, "20500")
    }
    assert len(sms_by_twilio.requests("Messages")) == 3 * settings.DELIVERY_MAX_ATTEMPTS
    tasks.sweep()
    assert timezone.now() < LAUNCH + timedelta(minutes=1)
    called = RecordedMessage.objects.filter(delivery__recipient__callout=callout, channel="voice")
    assert sorted(m.delivery.recipient.person.full_name for m in called) == ["Ann", "Ben", "Cat"]


# Email through Django's mail backends

@pytest.fixture
def ann_by_email(k9):
    return ContactMethod.objects.create(person=k9.people["Ann"], kind="email", address="ann@police.example",
                                        delay_minutes=2)


def test_email_goes_through_the_configured_backend_with_the_message_id_it_returns(k9, operator, ann_by_email,
                                                                                  settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    delivery = delivery_of(launch(k9, operator), "Ann", "email")
    message_id = EmailChannel().send(delivery)
    [sent] = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (["ann@police.example"], delivery.subject, delivery.body)
    assert sent.from_email == settings.DEFAULT_FROM_EMAIL
    assert sent.extra_headers["Message-ID"] == message_id


class Mailbox:
    """An SMTP server on loopback that keeps what it accepts and refuses addresses on request."""

    def __init__(self):
        self.messages: list = []
        self.refuse: dict[str, str] = {}
        self.silent_after_data = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        if self.silent_after_data:
            await asyncio.sleep(self.silent_after_data)  # took it, and the answer never comes in time
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=closed_port(), loop=asyncio.new_event_loop())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
    yield mailbox
    controller.stop()


def test_email_over_smtp_arrives_with_the_accept_and_decline_links(k9, operator, ann_by_email, smtp_server):
    delivery = delivery_of(launch(k9, operator), "Ann", "email")
    message_id = EmailChannel().send(delivery)
    [envelope] = smtp_server.messages
    text = envelope.content.decode()
    assert envelope.rcpt_tos == ["ann@police.example"]
    assert f"Message-ID: {message_id}" in text
    assert "Accept: http://127.0.0.1:8000/respond/" in text
    assert "Decline: http://127.0.0.1:8000/respond/" in text


@pytest.mark.parametrize("reply, permanent", [("550 5.1.1 No such user", True), ("450 4.2.1 Try again later", False)])
def test_email_refused_by_the_server_is_permanent_only_for_a_5xx_reply(k9, operator, ann_by_email, smtp_server,
                                                                       reply, permanent):
    smtp_server.refuse["ann@police.example"] = reply
    with pytest.raises(ChannelError) as raised:
        EmailChannel().send(delivery_of(launch(k9, operator), "Ann", "email"))
    assert raised.value.permanent is permanent
    assert raised.value.code == reply[:3]
    assert smtp_server.messages == []


def test_email_whose_answer_never_comes_is_an_unknown_outcome_not_a_retry(k9, operator, ann_by_email,
                                                                         smtp_server, settings):
    settings.EMAIL_TIMEOUT = 1
    smtp_server.silent_after_data = 3
    with pytest.raises(ChannelError) as raised:
        EmailChannel().send(delivery_of(launch(k9, operator), "Ann", "email"))
    assert raised.value.unknown and not raised.value.permanent
    assert len(smtp_server.messages) == 1


def test_email_when_the_server_cannot_be_reached_is_temporary(k9, operator, ann_by_email, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    with pytest.raises(ChannelError) as raised:
        EmailChannel().send(delivery_of(launch(k9, operator), "Ann", "email"))
    assert not raised.value.permanent and not raised.value.unknown


# Web Push with VAPID, against a push service on loopback

@pytest.fixture
def ann_subscribed(k9, push_service):
    """Ann's browser: its own key pair and auth secret, and the subscription Muster keeps for it."""
    browser = subscribe_browser(k9.people["Ann"], push_service)
    subscription = browser.subscription
    subscription.browser_key, subscription.auth_secret = browser.key, browser.auth
    return subscription


def test_push_is_signed_with_vapid_and_only_the_browser_can_read_it(k9, operator, vapid, push_service,
                                                                    ann_subscribed):
    callout = launch(k9, operator)
    delivery = delivery_of(callout, "Ann", "push")
    message_id = WebPushChannel().send(delivery)
    [(headers, body)] = push_service.received
    assert message_id == "m-1"
    assert Vapid.verify(headers["authorization"])
    assert headers["authorization"].endswith("k=" + b64url(vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)))
    plain = http_ece.decrypt(body, private_key=ann_subscribed.browser_key, auth_secret=ann_subscribed.auth_secret)
    assert json.loads(plain)["callout"] == callout.id


# What the field app's service worker receives, by kind, and how urgently the push service must deliver it

def test_a_callout_push_shows_the_unit_and_message_carries_its_answer_and_wakes_the_phone_at_once(
        k9, operator, vapid, push_service, ann_subscribed):
    callout = launch(k9, operator)

    WebPushChannel().send(delivery_of(callout, "Ann", "push"))

    [(headers, body)] = push_service.received
    assert (headers["urgency"], headers["ttl"]) == ("high", str(settings.WEBPUSH_TTL))
    payload = read(ann_subscribed, body)
    answer = payload.pop("answer")
    assert payload == {"kind": "callout", "callout": callout.id, "title": "Canine Unit",
                       "body": "Missing child, Riverside Park", "url": f"/app/#/callouts/{callout.id}"}
    assert answer["url"] == "/api/v1/answer-links/"
    assert push_answer_recipient(answer["token"]) == callout.recipients.get(person__full_name="Ann")


def test_a_drill_says_so_in_the_title_and_a_long_message_is_cut_to_fit_a_push(k9, operator, vapid, push_service,
                                                                             ann_subscribed):
    callout = callout_launch(unit=k9, message="x" * 1000, exercise=True, actor=operator)
    callout.message = "y" * 1500  # longer than a launch allows: the push is cut all the same
    Callout.objects.filter(pk=callout.pk).update(message=callout.message)

    WebPushChannel().send(delivery_of(callout, "Ann", "push"))

    payload = read(ann_subscribed, push_service.received[0][1])
    assert (payload["title"], payload["body"]) == ("EXERCISE: Canine Unit", "y" * 1000)


@pytest.mark.parametrize("stand_down", [False, True], ids=["update", "stand-down"])
def test_an_update_or_stand_down_push_carries_its_own_words_at_high_urgency(k9, operator, vapid, push_service,
                                                                            ann_subscribed, stand_down):
    callout = launch(k9, operator)
    callout_respond(recipient=callout.recipients.get(person__full_name="Ann"), response="accept", channel="app")
    callout_send_update(callout=callout, text="RV moved to Lambeth HQ", actor=operator, stand_down=stand_down)
    update = Delivery.objects.select_related("recipient__callout__unit").get(
        recipient__person__full_name="Ann", channel="push", kind=Delivery.Kind.UPDATE)

    WebPushChannel().send(update)

    [(headers, body)] = push_service.received
    assert headers["urgency"] == "high"
    words = "STAND DOWN. RV moved to Lambeth HQ" if stand_down else "RV moved to Lambeth HQ"
    assert read(ann_subscribed, body) == {"kind": "callout-update", "callout": callout.id, "title": "Canine Unit",
                                          "body": words, "url": f"/app/#/callouts/{callout.id}"}


def read(subscription, body: bytes) -> dict:
    return json.loads(http_ece.decrypt(body, private_key=subscription.browser_key,
                                       auth_secret=subscription.auth_secret))


@pytest.mark.parametrize("status", [404, 410])
def test_push_to_a_subscription_that_is_gone_is_permanent_and_retires_it(k9, operator, vapid, push_service,
                                                                         ann_subscribed, status):
    push_service.status = status
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert raised.value.permanent
    ann_subscribed.refresh_from_db()
    assert not ann_subscribed.active


@pytest.mark.parametrize("status", [429, 503])
def test_push_rate_limit_or_server_error_is_temporary_and_keeps_the_subscription(k9, operator, vapid, push_service,
                                                                                 ann_subscribed, status):
    push_service.status = status
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert not raised.value.permanent
    ann_subscribed.refresh_from_db()
    assert ann_subscribed.active


def test_push_without_an_active_subscription_fails_for_good(k9, operator, vapid, push_service, ann_subscribed):
    PushSubscription.objects.update(active=False)
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert raised.value.permanent
    assert push_service.received == []


# Only push services the operator allows, at addresses checked when sending

@pytest.fixture
def push_by_webpush(settings, vapid):
    settings.MUSTER_CHANNELS = {**settings.MUSTER_CHANNELS, "push": "callouts.channels.push.WebPushChannel"}


def subscribe(person, endpoint: str) -> PushSubscription:
    """A subscription saved before the allow-list existed (or since taken off it): no check on the way in."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    ContactMethod.objects.filter(person=person, kind="push").update(address=endpoint)
    return PushSubscription.objects.create(person=person, endpoint=endpoint, p256dh=b64url(public),
                                           auth=b64url(os.urandom(16)))


def test_a_push_service_on_loopback_is_refused_unless_the_operator_names_it(k9, operator, vapid, push_service,
                                                                           ann_subscribed, settings, network):
    settings.PUSH_SERVICE_HOSTS = [h for h in settings.PUSH_SERVICE_HOSTS if h != "127.0.0.1"]
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert (raised.value.permanent, raised.value.code) == (True, "endpoint-refused")
    assert str(raised.value) == ("Push endpoint refused, nothing sent: 127.0.0.1 is not one of the push services "
                                 "allowed (PUSH_SERVICE_HOSTS).")
    assert push_service.received == [] and network.connected == []
    ann_subscribed.refresh_from_db()
    assert ann_subscribed.active  # allowing the host again brings the pushes back


@pytest.mark.parametrize("address", ["127.0.0.1", "10.20.30.40", "169.254.169.254", "fd00:ec2::254",
                                     "::ffff:127.0.0.1"])
def test_a_push_service_name_that_resolves_to_an_internal_address_is_refused_when_sending(
        k9, operator, vapid, network, address):
    network.dns["updates.push.services.mozilla.com"] = [address]
    subscribe(k9.people["Ann"], "https://updates.push.services.mozilla.com/wpush/v2/gAAAA")
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert (raised.value.permanent, raised.value.code) == (True, "endpoint-refused")
    assert "resolves to an address not allowed" in str(raised.value)
    assert network.connected == []


def test_a_push_service_redirect_is_not_followed(k9, operator, vapid, push_service, ann_subscribed):
    push_service.status, push_service.location = 307, push_service.endpoint.replace("device-1", "elsewhere")
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert raised.value.permanent
    assert str(raised.value) == "Push service answered 307 Temporary Redirect (redirects are not followed)"
    assert push_service.paths == ["/push/v2/device-1"]


def test_what_a_push_service_answers_is_never_stored(k9, operator, vapid, push_service, ann_subscribed):
    push_service.status, push_service.answer = 400, b"redis at 10.0.0.5:6379 said NOAUTH; token=abc123"
    with pytest.raises(ChannelError) as raised:
        WebPushChannel().send(delivery_of(launch(k9, operator), "Ann", "push"))
    assert str(raised.value) == "Push service answered 400 Bad Request"


@pytest.mark.django_db(transaction=True)  # the batch's sends run in threads, on their own connections
def test_a_refused_push_endpoint_fails_its_delivery_and_the_rest_of_the_batch_is_sent(
        k9, operator, push_by_webpush, push_service, ann_subscribed, network):
    subscribe(k9.people["Ben"], f"http://localhost:{closed_port()}/")
    callout = launch(k9, operator)
    deliveries_send(delivery_ids=list(Delivery.objects.filter(recipient__callout=callout, channel="push")
                                      .values_list("id", flat=True)))
    ann, ben = delivery_of(callout, "Ann", "push"), delivery_of(callout, "Ben", "push")
    assert (ann.state, ann.provider_message_id) == (Delivery.State.SENT, "m-1")
    assert (ben.state, ben.error_code) == (Delivery.State.FAILED, "endpoint-refused")
    assert ben.error == ("Push endpoint refused, nothing sent: localhost is not one of the push services allowed "
                         "(PUSH_SERVICE_HOSTS).")
    assert network.connected == ["127.0.0.1"]  # Ann's push service only
    cat = delivery_of(callout, "Cat", "push")
    assert (cat.state, cat.error_code) == (Delivery.State.FAILED, "no-subscription")


# Which classes serve the channels

def channels_with(tmp_path, **env) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_CHANNEL") and k != "MUSTER_PROVIDERS"}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "MUSTER_VAR_DIR": str(tmp_path), **env})
    probe = "import json; from django.conf import settings; print(json.dumps(settings.MUSTER_CHANNELS))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=clean, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def test_live_providers_use_the_real_channels_and_one_variable_still_overrides(tmp_path):
    assert set(channels_with(tmp_path).values()) == {"callouts.channels.recording.RecordingChannel"}
    assert channels_with(tmp_path, MUSTER_PROVIDERS="live", EMAIL_CHANNEL="callouts.channels.recording."
                         "RecordingChannel") == {
        "push": "callouts.channels.push.WebPushChannel",
        "sms": "callouts.channels.sms.TwilioSMSChannel",
        "voice": "callouts.channels.voice.TwilioVoiceChannel",
        "email": "callouts.channels.recording.RecordingChannel",
    }


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
