"""Proof that a webhook request comes from Twilio: its ``X-Twilio-Signature`` over our URL and the POST data."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def twilio_signed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse with 403 any request that Twilio did not sign with our auth token.

    The signature stands in for the CSRF token Twilio cannot send, so the view is also csrf_exempt.
    Twilio signs the address it was given, which is ours as ``SITE_URL``, not the Host a proxy passes on.
    """

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not signed_by_twilio(request):
            return HttpResponseForbidden("Invalid Twilio signature.")
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)


def signed_by_twilio(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        # Anyone can compute a signature with an empty key.
        log.error("TWILIO_AUTH_TOKEN is not set: refusing Twilio webhook %s", request.path)
        return False
    signature = request.headers.get("X-Twilio-Signature", "")
    url = settings.SITE_URL + request.get_full_path()
    return bool(signature) and RequestValidator(token).validate(url, request.POST, signature)
