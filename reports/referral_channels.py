"""The two ways a referral reaches its agency: email over SMTP and an HMAC-signed webhook.

Each sender's ``send(delivery)`` returns the status the far end answered (``"250"``, ``"200"``) once it has
taken the referral, and raises ``SendError`` otherwise: ``retry=True`` when trying later may help (SMTP 4xx,
no connection, a timeout, HTTP 408, 429 or 5xx), ``retry=False`` when it cannot (SMTP 5xx, any other HTTP 4xx, and
a redirect, which is not followed: the signed referral goes only to the address the agency gave). The webhook's
address is checked when sending, against the address actually connected to (``config.outbound``): one that
resolves to a loopback, private, link-local or metadata address fails for good without a request, unless its
host is in ``WEBHOOK_ALLOWED_HOSTS``. An error keeps the status or reply code and our own words, never what the
far server said nor the socket's error text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from datetime import datetime

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from config.outbound import (
    OutboundRefused,
    failure_reason,
    guarded_session,
    smtp_failure,
    smtp_reason,
    status_reason,
    webhook_policy,
)
from reports.models import ReferralDelivery, ReportVersion

RETRY_HTTP = {408, 429}


class SendError(Exception):
    def __init__(self, message: str, *, retry: bool, status: str = ""):
        super().__init__(message)
        self.retry = retry
        self.status = status


def payload_json(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>``: what X-Muster-Signature carries."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSender:
    """POSTs the frozen payload as JSON. ``X-Muster-Delivery`` stays the same on every retry of a delivery, so
    the partner can drop a referral it already has; the timestamp is signed with the body against replays."""

    def send(self, delivery: ReferralDelivery) -> str:
        body = payload_json(delivery.referral.payload)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Muster referrals",
            "X-Muster-Delivery": delivery_key(delivery),
            "X-Muster-Timestamp": timestamp,
            "X-Muster-Signature": signature(delivery.referral.agency.webhook_secret, timestamp, body),
        }
        try:
            with guarded_session(webhook_policy()) as session:
                response = session.post(delivery.address, data=body, headers=headers,
                                        timeout=settings.REFERRAL_TIMEOUT, stream=True)
                response.close()  # the body is never read: it is not ours to keep
        except OutboundRefused as error:
            raise SendError(f"Webhook address refused, nothing sent: {error}", retry=False,
                            status="refused") from error
        except requests.Timeout as error:
            raise SendError(f"No answer within {settings.REFERRAL_TIMEOUT} s ({failure_reason(error)})",
                            retry=True) from error
        except requests.RequestException as error:
            raise SendError(f"Could not reach the webhook: {failure_reason(error)}", retry=True) from error
        status = str(response.status_code)
        if 200 <= response.status_code < 300:
            return status
        raise SendError(f"The webhook answered {status_reason(response.status_code)}", status=status,
                        retry=response.status_code in RETRY_HTTP or response.status_code >= 500)


class EmailSender:
    """Sends a plain-text email with the shared fields, the acknowledgement link and the payload attached as
    JSON, through Django's ``EMAIL_BACKEND`` (SMTP: ``EMAIL_HOST``, ``EMAIL_PORT``, ...)."""

    def send(self, delivery: ReferralDelivery) -> str:
        referral = delivery.referral
        payload = referral.payload
        email = EmailMessage(email_subject(payload), email_body(payload, field_titles(referral)),
                             settings.REFERRAL_FROM_EMAIL, [delivery.address],
                             headers={"X-Muster-Delivery": delivery_key(delivery)})
        email.attach(f"referral-{referral.pk}.json", json.dumps(payload, indent=2, ensure_ascii=False),
                     "application/json")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise smtp_error(code, reply) from error
        except smtplib.SMTPResponseException as error:
            raise smtp_error(error.smtp_code, error.smtp_error) from error
        except OSError as error:  # no connection, a timeout, or the server hung up (smtplib's errors are OSErrors)
            raise SendError(f"Mail server unreachable: {smtp_failure(error)}", retry=True) from error
        return "250"


def smtp_error(code: int, reply: bytes | str) -> SendError:
    # The reply's text is the mail server's (and may quote a remote one): only its code is kept.
    return SendError(f"Mail server answered {code} ({smtp_reason(code)})", status=str(code),
                     retry=not 500 <= code < 600)


def delivery_key(delivery: ReferralDelivery) -> str:
    return f"muster-referral-{delivery.referral_id}-{delivery.channel}"


def field_titles(referral) -> dict[str, str]:
    version = (ReportVersion.objects.select_related("type_version")
               .filter(report_id=referral.report_id, number=referral.version).first())
    properties = version.type_version.schema.get("properties", {}) if version else {}
    return {name: spec.get("title", name) for name, spec in properties.items() if isinstance(spec, dict)}


def email_subject(payload: dict) -> str:
    update = "UPDATE: " if payload["kind"] == "update" else ""
    return (f"[{payload['priority'].upper()}] {update}{payload['report']['type_name']} referral"
            f", act by {local_time(payload['act_by'])}")


def email_body(payload: dict, titles: dict[str, str]) -> str:
    report, area, officer = payload["report"], payload["area"], payload["officer"]
    lines = [
        f"{payload['report']['type_name']} referral to {payload['agency']}"
        + (" (an update: the report was amended)" if payload["kind"] == "update" else ""),
        "",
        f"Priority: {payload['priority']}",
        f"Please acknowledge by {local_time(payload['act_by'])}:",
        payload["acknowledge_url"],
        "",
        f"Report: {report['id']}, version {report['version']}",
        f"Submitted: {local_time(payload['submitted_at'])}",
    ]
    if payload.get("amended_at"):
        lines.append(f"Amended: {local_time(payload['amended_at'])}")
    lines += [
        f"Area: {area['name']} ({area['code']})" if area else "Area: not given",
        f"Officer: {officer['name']}, badge {officer['badge_number']}",
        f"Why you are receiving this: {payload['rule']}",
        "",
    ]
    # jsonb keeps no key order, so the fields follow the list the rule shared, in the rule's order.
    fields = payload["fields"]
    lines += [f"{titles.get(name, name)}: {shown(fields.get(name))}" for name in payload["shared_fields"]]
    lines += ["", f"The referral is attached as JSON (referral-{payload['referral_id']}.json)."]
    return "\n".join(lines) + "\n"


def shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return "not given" if value in (None, "") else str(value)


def local_time(iso: str | None) -> str:
    if not iso:
        return "not given"
    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%H:%M %Z on %d %b %Y")


SENDERS = {ReferralDelivery.Channel.EMAIL: EmailSender(), ReferralDelivery.Channel.WEBHOOK: WebhookSender()}
