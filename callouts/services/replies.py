"""Texts people send back to an alert, kept as they came."""

from __future__ import annotations

from django.db import transaction

from callouts.clock import db_now
from callouts.models import InboundReply, Recipient
from units.audit import acting, audit_event


def reply_received(*, recipient: Recipient, channel: str, body: str, understood: bool, actor) -> InboundReply:
    """Keep a reply to ``recipient``'s alert. One not understood is audited here; an understood one is audited as
    the answer it gives (``callout_respond``)."""
    with transaction.atomic(), acting(actor):
        reply = InboundReply.objects.create(recipient=recipient, channel=channel, body=body[:1600],
                                            understood=understood, received_at=db_now())
        if not understood:
            audit_event(event="callout_reply_not_understood", target=recipient.callout, actor=actor,
                        message=f"{recipient.person}: {body[:200]}",
                        data={"person": recipient.person_id, "channel": channel})
    return reply
