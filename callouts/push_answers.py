"""Accept and Decline on a callout's push notification: ``POST /api/v1/answer-links/`` with the token the push
carries.

A locked phone answers without the app's device token (the PIN locks that away), so the signed token is the
credential, as an email's answer link is (``callouts.links``): it names one recipient of one callout and nothing
else. It has its own salt, so an email link's token is no push token, and the other way round. It stays valid
while the push may still be waiting at the push service (WEBPUSH_TTL) and a day more for the person to act on
what their phone shows.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from callouts.models import Recipient

SALT = "callouts.push-answer"
MARGIN_SECONDS = 24 * 3600


def push_answer_token(recipient_id: int) -> str:
    return signing.dumps({"r": recipient_id}, salt=SALT, compress=True)


def push_answer_recipient(token: str) -> Recipient | None:
    """The recipient the token was made for; None when it is forged, expired or names nobody any more."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.WEBPUSH_TTL + MARGIN_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    recipient_id = payload.get("r") if isinstance(payload, dict) else None
    if not isinstance(recipient_id, int):
        return None
    return Recipient.objects.select_related("callout", "person__user").filter(pk=recipient_id).first()
