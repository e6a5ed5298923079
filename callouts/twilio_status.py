"""Twilio's delivery-status callbacks for the SMS and calls we placed.

A delivery's state only moves forward, in one conditional UPDATE, so a replayed callback or one that arrives
after a later status changes nothing. A message or call that failed is handled as a send that failed for good:
the person's next channel is brought forward. ``twilio_signed`` checks the signature over the address Twilio
was given (``SITE_URL``), because behind a proxy the Host and scheme Django sees are not the ones Twilio signed.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from callouts.models import Delivery
from callouts.services.deliveries import delivery_status_reported
from callouts.twilio_auth import twilio_signed

log = logging.getLogger(__name__)

State = Delivery.State
TWILIO_STATES = {
    **dict.fromkeys(["queued", "accepted", "scheduled", "sending", "sent", "initiated", "ringing", "in-progress"],
                    State.SENT),
    **dict.fromkeys(["delivered", "read", "completed"], State.DELIVERED),
    **dict.fromkeys(["failed", "undelivered", "busy", "no-answer", "canceled"], State.FAILED),
}


@twilio_signed
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    sid = request.POST.get("MessageSid") or request.POST.get("CallSid", "")
    status = request.POST.get("MessageStatus") or request.POST.get("CallStatus", "")
    state = TWILIO_STATES.get(status)
    if sid and state:
        error_code = request.POST.get("ErrorCode") or (status if state == State.FAILED else "")
        delivery_status_reported(provider_message_id=sid, state=state, error_code=error_code,
                                 error=request.POST.get("ErrorMessage") or f"Twilio reported {status}",
                                 delivery_id=delivery_in(request))
    else:
        log.info("Twilio status callback ignored: sid %r, status %r", sid, status)
    return HttpResponse(status=204)


def delivery_in(request: HttpRequest) -> int | None:
    """Our delivery id from the callback address we gave Twilio (covered by its signature)."""
    value = request.GET.get("delivery", "")
    return int(value) if value.isdigit() else None
