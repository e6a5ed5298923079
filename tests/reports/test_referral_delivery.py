"""Delivering referrals: email received by a real SMTP server on loopback, a signed webhook against a local HTTP
server, retries with backoff on the controlled clock, leases and claims."""

import asyncio
import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from auditlog.models import LogEntry
from django.test import override_settings

from reports.models import Referral, ReferralAttempt, ReferralDelivery, ReportType
from reports.referral_selectors import overdue_referrals
from reports.services.referrals import (
    LEASE,
    RETRY_CAP_SECONDS,
    refer,
    referral_deliveries_lease,
    referral_delivery_send,
    retry_delay,
)
from tests.reports.conftest import NOW
from tests.reports.test_referrals import AMY, amend, make_agency, make_rule

SECRET = "partner-shared-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An SMTP server's handler that keeps what it accepts and refuses addresses on request."""

    def __init__(self):
        self.messages: list = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), loop=asyncio.new_event_loop())
    controller.start()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=controller.port, EMAIL_USE_TLS=False):
        yield mailbox
    controller.stop()


class Partner(ThreadingHTTPServer):
    """A partner's webhook endpoint: checks each request's signature and answers the statuses it is given."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), PartnerHandler)
        self.statuses: list[int] = []
        self.received: list[dict] = []
        self.answer = b"{}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/muster"


class PartnerHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers["X-Muster-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, self.headers["X-Muster-Signature"])
        status = (self.server.statuses.pop(0) if self.server.statuses else 200) if signed else 401
        self.server.received.append({"headers": dict(self.headers), "payload": json.loads(body), "signed": signed,
                                     "status": status})
        self.send_response(status)
        self.send_header("Location", "https://elsewhere.example/hooks")
        self.end_headers()
        self.wfile.write(self.server.answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def partner(settings):
    # A webhook on loopback is reached only because the operator names its host.
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Partner()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def emailed(simple_type):
    return make_rule(simple_type, make_agency())


@pytest.fixture
def hooked(simple_type, partner):
    agency = make_agency("Youth Offending Team", email="", webhook_url=partner.url, webhook_secret=SECRET)
    return make_rule(simple_type, agency)


@pytest.fixture
def referred(officer, simple_type, file_report, clock, django_capture_on_commit_callbacks):
    """File Amy's report and refer it; the send tasks run eagerly when the referral commits."""
    def make(data=AMY, **options):
        report, version = file_report(officer, simple_type, data, **options)
        with django_capture_on_commit_callbacks(execute=True):
            refer(version=version, now=NOW)
        return Referral.objects.get(report=report)

    return make


def attempts(delivery) -> list[tuple]:
    return list(ReferralAttempt.objects.filter(delivery=delivery).values_list("number", "ok", "status"))


# Email over SMTP

def test_the_referral_email_arrives_with_the_shared_fields_the_ack_link_and_the_payload(
        emailed, referred, smtp_server, client, settings):
    referral = referred()
    [envelope] = smtp_server.messages
    assert envelope.mail_from == settings.REFERRAL_FROM_EMAIL
    assert envelope.rcpt_tos == ["safeguarding@council.example"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "[URGENT] Simple report referral, act by 11:00 UTC on 03 Jun 2026"
    assert message["X-Muster-Delivery"] == f"muster-referral-{referral.pk}-email"
    text = message.get_body(("plain",)).get_content()
    for line in ("Name: Amy Pond", "Age: 9", "Risk grading: high", "Priority: urgent",
                 f"Officer: Olive, badge {referral.report.author.badge_number}", "Area: not given",
                 f"Report: {referral.report_id}, version 1", "Why you are receiving this: Missing child at risk"):
        assert line in text.splitlines()
    assert "Red coat" not in envelope.content.decode()  # description is not a shared field
    assert referral.payload["acknowledge_url"] in text.splitlines()
    assert "Acknowledge receipt" in client.get(urlsplit(referral.payload["acknowledge_url"]).path).content.decode()
    [attachment] = message.iter_attachments()
    assert attachment.get_content_type() == "application/json"
    assert json.loads(attachment.get_content()) == referral.payload
    delivery = referral.deliveries.get()
    assert (delivery.state, delivery.delivered_at, delivery.attempts) == ("delivered", NOW, 1)
    assert attempts(delivery) == [(1, True, "250")]


def test_an_email_for_an_update_says_so_and_gives_the_amendment_time(emailed, referred, smtp_server, clock,
                                                                   django_capture_on_commit_callbacks):
    report = referred().report
    clock.shift(timedelta(minutes=5))
    later = NOW + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        refer(version=amend(report, {"grading": "low"}, at=later), now=later)
    message = message_from_bytes(smtp_server.messages[1].content, policy=policy.default)
    assert message["Subject"].startswith("[URGENT] UPDATE: Simple report referral")
    text = message.get_body(("plain",)).get_content()
    assert "Risk grading: low" in text.splitlines() and "Amended: 10:05 UTC on 03 Jun 2026" in text.splitlines()


def test_an_smtp_4xx_is_retried_later(emailed, referred, smtp_server):
    smtp_server.refuse["safeguarding@council.example"] = "450 4.2.1 Mailbox busy, try again later"
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.due_at > NOW
    assert attempts(delivery) == [(1, False, "450")]
    # The reply code is kept with our own words; the server's text is not.
    assert delivery.error == "Mail server answered 450 (refused for now, to try again later)"


def test_an_smtp_5xx_fails_the_delivery_at_once(emailed, referred, smtp_server, caplog):
    smtp_server.refuse["safeguarding@council.example"] = "550 5.1.1 No such mailbox"
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert attempts(delivery) == [(1, False, "550")]
    assert referral_deliveries_lease(now=NOW + timedelta(days=1)) == []
    assert "failed for good after 1 attempts" in caplog.text
    assert smtp_server.messages == []


def test_an_unreachable_mail_server_is_retried(emailed, referred, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    [attempt] = delivery.attempt_log.all()
    assert not attempt.ok and "Mail server unreachable" in attempt.detail


# Signed webhook

def test_a_webhook_answering_500_then_200_is_delivered_on_the_second_attempt(hooked, referred, partner, clock):
    partner.statuses = [500]
    referral = referred()
    delivery = referral.deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    clock.shift(delivery.due_at - NOW + timedelta(seconds=1))
    for delivery_id in referral_deliveries_lease():
        referral_delivery_send(delivery_id=delivery_id)
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert attempts(delivery) == [(1, False, "500"), (2, True, "200")]
    first, second = partner.received
    assert first["signed"] and second["signed"]
    assert first["payload"] == second["payload"] == referral.payload
    assert first["headers"]["X-Muster-Delivery"] == second["headers"]["X-Muster-Delivery"] == (
        f"muster-referral-{referral.pk}-webhook")
    assert first["headers"]["X-Muster-Timestamp"] == str(int(NOW.timestamp()))


def test_a_signature_made_with_another_secret_does_not_verify(hooked, referred, partner):
    hooked.agency.webhook_secret = "not-what-the-partner-holds"
    hooked.agency.save()
    delivery = referred().deliveries.get()
    [request] = partner.received
    assert not request["signed"]
    assert attempts(delivery) == [(1, False, "401")]


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_permanent_4xx_fails_the_webhook_delivery_and_it_is_not_retried(hooked, referred, partner, clock, caplog,
                                                                          status):
    partner.statuses = [status]
    referral = referred()
    delivery = referral.deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert attempts(delivery) == [(1, False, str(status))]
    clock.shift(timedelta(hours=2))
    assert referral_deliveries_lease() == []
    assert len(partner.received) == 1
    assert "failed for good" in caplog.text
    entry = LogEntry.objects.get(additional_data__event="referral_delivery_failed")
    assert entry.object_pk == str(referral.pk)
    assert list(overdue_referrals()) == [referral]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_a_webhook_answering_408_429_or_5xx_is_retried(hooked, referred, partner, status):
    partner.statuses = [status]
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert attempts(delivery) == [(1, False, str(status))]


def test_an_unreachable_webhook_is_retried(simple_type, referred, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    agency = make_agency("Nobody home", email="", webhook_url=f"http://127.0.0.1:{free_port()}/hook",
                         webhook_secret=SECRET)
    make_rule(simple_type, agency)
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert delivery.attempt_log.get().detail == "Could not reach the webhook: could not connect"


# Only addresses that are allowed, checked when sending; nothing the far end says is kept

def test_a_webhook_on_loopback_is_refused_unless_the_operator_names_it(hooked, referred, partner, settings, network):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    referral = referred()
    delivery = referral.deliveries.get()
    assert (delivery.state, attempts(delivery)) == ("failed", [(1, False, "refused")])
    assert delivery.error == ("Webhook address refused, nothing sent: The address must use https://.")
    assert partner.received == [] and network.connected == []
    assert LogEntry.objects.filter(additional_data__event="referral_delivery_failed").count() == 1
    assert list(overdue_referrals()) == [referral]


@pytest.mark.parametrize("url", ["https://127.0.0.1:8199/hook", "https://[::ffff:127.0.0.1]:8199/hook",
                                 "https://169.254.169.254/latest/meta-data/", "https://localhost:6379/"])
def test_an_agency_saved_with_an_internal_webhook_still_gets_its_email_and_the_webhook_fails(
        simple_type, referred, smtp_server, network, url):
    make_rule(simple_type, make_agency(webhook_url=url, webhook_secret=SECRET))
    referral = referred()
    email, webhook = referral.deliveries.order_by("channel")
    assert (email.state, webhook.state) == ("delivered", "failed")
    assert attempts(webhook) == [(1, False, "refused")] and "nothing sent" in webhook.error
    assert len(smtp_server.messages) == 1
    assert network.connected == ["127.0.0.1"]  # the mail server only


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "fd00:ec2::254", "::ffff:192.168.0.1"])
def test_a_webhook_host_that_resolves_to_an_internal_address_when_sending_is_refused(
        simple_type, referred, network, address):
    network.dns["hooks.partner.example"] = [address]
    make_rule(simple_type, make_agency(email="", webhook_url="https://hooks.partner.example/muster",
                                       webhook_secret=SECRET))
    delivery = referred().deliveries.get()
    assert (delivery.state, attempts(delivery)) == ("failed", [(1, False, "refused")])
    assert "hooks.partner.example resolves to an address not allowed" in delivery.error
    assert network.connected == []


def test_what_a_webhook_answers_is_never_stored(hooked, referred, partner):
    partner.statuses, partner.answer = [500], b"Traceback: redis at 10.0.0.5:6379 refused; DB password=hunter2"
    delivery = referred().deliveries.get()
    [attempt] = delivery.attempt_log.all()
    delivery.refresh_from_db()
    assert attempt.detail == delivery.error == "The webhook answered 500 Internal Server Error"


def test_a_webhook_redirect_fails_for_good_and_is_not_followed(hooked, referred, partner):
    partner.statuses = [302]
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.error) == ("failed", "The webhook answered 302 Found (redirects are not followed)")
    assert len(partner.received) == 1


def test_a_failed_connection_is_stored_in_our_words_without_hosts_or_ports(simple_type, referred, partner, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    port = partner.server_address[1]  # it speaks plain HTTP: the TLS handshake fails
    make_rule(simple_type, make_agency(email="", webhook_url=f"https://127.0.0.1:{port}/hook", webhook_secret=SECRET))
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.error) == ("pending", "Could not reach the webhook: the TLS handshake failed")


# Retries, leases and claims

def test_retries_back_off_exponentially_with_jitter_then_fail_after_the_last_attempt(
        hooked, referred, partner, clock, settings, caplog):
    settings.REFERRAL_RETRY_BASE, settings.REFERRAL_MAX_ATTEMPTS = 15, 3
    partner.statuses = [503, 503, 503, 503]
    delivery = referred().deliveries.get()
    delivery.refresh_from_db()
    assert timedelta(seconds=12) <= delivery.due_at - NOW <= timedelta(seconds=18)

    clock.shift(timedelta(seconds=11.9))
    assert referral_deliveries_lease() == []  # not due yet
    clock.move_to(delivery.due_at)
    [leased] = referral_deliveries_lease()
    referral_delivery_send(delivery_id=leased)
    second_at = delivery.due_at
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert timedelta(seconds=24) <= delivery.due_at - second_at <= timedelta(seconds=36)

    clock.move_to(delivery.due_at)
    referral_delivery_send(delivery_id=referral_deliveries_lease()[0])
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    assert attempts(delivery) == [(1, False, "503"), (2, False, "503"), (3, False, "503")]
    assert len(partner.received) == 3
    assert "failed for good after 3 attempts" in caplog.text


def test_the_wait_between_attempts_is_capped():
    assert retry_delay(30) <= timedelta(seconds=RETRY_CAP_SECONDS * 1.2)
    assert retry_delay(30) >= timedelta(seconds=RETRY_CAP_SECONDS * 0.8)


@pytest.fixture
def pending(emailed, officer, simple_type, file_report, clock):
    """A delivery due now whose send task has not run (the on-commit callback is not executed)."""
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    return ReferralDelivery.objects.get()


def test_a_leased_delivery_is_not_handed_out_again_until_its_lease_runs_out(pending, clock):
    assert referral_deliveries_lease() == [pending.pk]
    assert referral_deliveries_lease() == []
    clock.shift(LEASE - timedelta(seconds=1))
    assert referral_deliveries_lease() == []
    clock.shift(timedelta(seconds=2))  # the task was lost: hand it out again
    assert referral_deliveries_lease() == [pending.pk]


def test_a_delivery_is_sent_once_however_many_tasks_claim_it(pending, clock):
    referral_deliveries_lease()
    assert referral_delivery_send(delivery_id=pending.pk) == "delivered"
    assert referral_delivery_send(delivery_id=pending.pk) == "not-claimed"
    assert referral_deliveries_lease(now=NOW + timedelta(hours=1)) == []
    assert attempts(pending) == [(1, True, "250")]


def test_a_delivery_waiting_out_its_backoff_is_not_sent_early_by_a_stray_task(pending, clock):
    ReferralDelivery.objects.filter(pk=pending.pk).update(due_at=NOW + LEASE + timedelta(minutes=5))
    assert referral_delivery_send(delivery_id=pending.pk) == "not-claimed"


def test_a_send_stuck_past_its_deadline_is_sent_again_at_least_once(pending, clock):
    ReferralDelivery.objects.filter(pk=pending.pk).update(state="sending", attempts=1,
                                                          send_deadline=NOW + timedelta(seconds=30))
    assert referral_deliveries_lease() == []  # still within its deadline: it may yet finish
    clock.shift(timedelta(seconds=31))
    assert referral_deliveries_lease() == [pending.pk]
    assert referral_delivery_send(delivery_id=pending.pk) == "delivered"
    assert attempts(pending) == [(1, False, ""), (2, True, "250")]
    assert "No outcome by the send deadline" in pending.attempt_log.get(number=1).detail


def test_a_missing_child_referral_email_lists_the_shipped_types_fields_by_their_titles(
        officer, file_report, smtp_server, clock, django_capture_on_commit_callbacks):
    missing_person = ReportType.objects.get(slug="missing-person")
    make_rule(missing_person, make_agency(), shared_fields=["name", "age", "last_seen_place", "last_seen_at",
                                                           "vulnerabilities", "grading", "rationale"])
    child = {"name": "Leo Marsh", "age": 11, "description": "Slim, short dark hair",
             "last_seen_place": "Brixton Station", "last_seen_at": "2026-06-03T09:15:00+01:00",
             "vulnerabilities": ["autism", "no phone"],
             "risk_factors": "Family history known to children's services", "grading": "high",
             "rationale": "Young, vulnerable, out of character"}
    _, version = file_report(officer, missing_person, child)
    with django_capture_on_commit_callbacks(execute=True):
        refer(version=version, now=NOW)
    [envelope] = smtp_server.messages
    text = message_from_bytes(envelope.content, policy=policy.default).get_body(("plain",)).get_content()
    for line in ("Name: Leo Marsh", "Age: 11", "Last seen (place): Brixton Station",
                 "Last seen (time): 2026-06-03T09:15:00+01:00", "Vulnerabilities: autism, no phone",
                 "Risk grading: high", "Rationale: Young, vulnerable, out of character"):
        assert line in text.splitlines()
    assert "Slim, short dark hair" not in text and "Family history" not in text


def test_a_send_that_finishes_after_its_deadline_passed_still_counts_as_delivered(pending, clock, monkeypatch):
    from reports.referral_channels import SENDERS

    real_send = SENDERS["email"].send

    def slow_send(delivery):
        clock.shift(timedelta(minutes=5))
        referral_deliveries_lease()  # meanwhile the sweep gives the send up and puts it back to pending
        return real_send(delivery)

    monkeypatch.setattr(SENDERS["email"], "send", slow_send)
    assert referral_delivery_send(delivery_id=pending.pk) == "delivered"
    pending.refresh_from_db()
    assert pending.state == "delivered"
    assert referral_deliveries_lease() == []
