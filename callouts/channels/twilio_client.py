"""The Twilio REST client shared by the SMS and voice channels, and how its failures are classified."""

from __future__ import annotations

import functools

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from callouts.channels import ChannelError, nothing_sent
from config.outbound import failure_reason, status_reason

TWILIO_API = "https://api.twilio.com"
# Twilio answers 400 for a full sending queue (21611), but it drains: trying again later can succeed.
TEMPORARY_CODES = frozenset({21611})


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends what the library addresses to api.twilio.com to ``base_url``: a proxy or a local test double.

    Twilio's documented way to change requests is a custom ``http_client``; its ``edge`` and ``region``
    options only choose among Twilio's own hosts.
    """

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url.removeprefix(TWILIO_API)
        return super().request(method, url, *args, **kwargs)


@functools.lru_cache(maxsize=4)
def cached_client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    return Client(account_sid, auth_token, http_client=BaseUrlHttpClient(base_url, timeout))


def twilio_client() -> Client:
    """A client for the current settings; it is kept so that its connections are reused between sends."""
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER):
        raise ChannelError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)",
                           permanent=True, code="not-configured")
    return cached_client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE,
                         settings.TWILIO_TIMEOUT)


def twilio_error(error: TwilioException | requests.RequestException) -> ChannelError:
    """429, 5xx and no connection are temporary; a lost answer is unknown; other refusals are permanent."""
    if isinstance(error, requests.RequestException) and nothing_sent(error):
        return ChannelError(f"Twilio could not be reached: {failure_reason(error)}", code="network")
    if isinstance(error, requests.RequestException):
        # The request may have been written: Twilio may have accepted it, and has no idempotency key.
        return ChannelError(f"No answer from Twilio, message may have gone: {failure_reason(error)}", unknown=True,
                            code="timeout")
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    temporary = status is None or status == 429 or status >= 500 or code in TEMPORARY_CODES
    # Twilio's error code says what went wrong (21211: not a valid number); its text is not kept.
    return ChannelError(f"Twilio answered {status_reason(status)}{f', error {code}' if code else ''}",
                        permanent=not temporary, code=str(code or status))


def status_callback_url(delivery) -> str:
    """The delivery id rides in the (signed) URL, so a report settles it even if its SID was never stored."""
    return f"{settings.SITE_URL}{reverse('callouts:twilio_status')}?delivery={delivery.pk}"
