"""Twilio's delivery-status callbacks for the SMS and calls we placed.

A delivery's state only moves forward, in one conditional UPDATE, so a replayed callback or one that arrives
after a later status changes nothing. A message or call that failed is handled as a send that failed for good:
the person's next channel is brought forward. ``twilio_signed`` checks the signature over the address Twilio
was given (``SITE_URL``), because behind a proxy the Host and scheme Django sees are not the ones Twilio signed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from callouts.models import Callout, Delivery
from callouts.services import bring_forward_next_channel, reassess
from callouts.twilio_auth import twilio_signed

log = logging.getLogger(__name__)

State = Delivery.State
TWILIO_STATES = {
    **dict.fromkeys(["queued", "accepted", "scheduled", "sending", "sent", "initiated", "ringing", "in-progress"],
                    State.SENT),
    **dict.fromkeys(["delivered", "read", "completed"], State.DELIVERED),
    **dict.fromkeys(["failed", "undelivered", "busy", "no-answer", "canceled"], State.FAILED),
}
RANK = {State.PENDING: 0, State.SENDING: 1, State.SENT: 2, State.DELIVERED: 3, State.FAILED: 3, State.CANCELLED: 3}


@twilio_signed
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    sid = request.POST.get("MessageSid") or request.POST.get("CallSid", "")
    status = request.POST.get("MessageStatus") or request.POST.get("CallStatus", "")
    state = TWILIO_STATES.get(status)
    if sid and state:
        error_code = request.POST.get("ErrorCode") or (status if state == State.FAILED else "")
        delivery_report_status(provider_message_id=sid, state=state, error_code=error_code,
                               error=request.POST.get("ErrorMessage") or f"Twilio reported {status}")
    else:
        log.info("Twilio status callback ignored: sid %r, status %r", sid, status)
    return HttpResponse(status=204)


def delivery_report_status(*, provider_message_id: str, state: str, error_code: str = "", error: str = "") -> bool:
    """Move the delivery to ``state`` if that is forward; True when it moved."""
    delivery = Delivery.objects.filter(provider_message_id=provider_message_id).first()
    if delivery is None:
        log.warning("Twilio status %s for unknown message %s", state, provider_message_id)
        return False
    now = timezone.now()
    changes = {"state": state, "updated_at": now}
    if state == State.FAILED:
        changes.update(error_code=error_code[:40], error=error)
    earlier = [s for s, rank in RANK.items() if rank < RANK[state]]
    if Delivery.objects.filter(pk=delivery.pk, state__in=earlier).update(**changes) != 1:
        return False
    if state == State.FAILED:
        log.warning("Delivery %s failed at the provider: %s %s", delivery.pk, error_code, error)
        failed_after_sending(delivery, now)
    return True


def failed_after_sending(delivery: Delivery, now: datetime) -> None:
    """As ``services.delivery_failed`` does for a send that failed for good, in the same order of locks."""
    bring_forward_next_channel(delivery, now)
    with transaction.atomic():
        callout = Callout.objects.select_for_update().get(pk=delivery.recipient.callout_id)
        if callout.state == Callout.State.ACTIVE:
            reassess(callout, now)
