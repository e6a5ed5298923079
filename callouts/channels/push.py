import json

import requests
from django.conf import settings
from pywebpush import WebPushException, webpush

from callouts.channels import ChannelError, nothing_sent
from callouts.messages import push_title, update_text
from callouts.models import Delivery
from callouts.push_answers import push_answer_token
from config.outbound import OutboundRefused, failure_reason, guarded_session, push_policy, status_reason
from units.models import PushSubscription

GONE = (404, 410)
# A callout and its updates must wake a phone saving its battery at once (Android's Doze holds a normal push for
# minutes); a notice can wait for the phone's next wake-up.
URGENCY = {Delivery.Kind.ALERT: "high", Delivery.Kind.UPDATE: "high", Delivery.Kind.NOTICE: "normal"}
# Push services refuse payloads over about 4 KB; the alert text is cut well before that.
MAX_BODY = 1000
# Where the field app (served under /app/) opens what a notification is about; relative, so the service worker
# resolves them against its own origin.
APP_URL = "/app/"
ANSWER_URL = "/api/v1/answer-links/"
CIRCULATION_TOPIC = "circulation:"


class WebPushChannel:
    """Sends a Web Push message signed with our VAPID key to the subscription whose endpoint is the address.

    Returns the push service's message id. Raises ``ChannelError``: temporary for 429, 5xx, a timeout or no
    connection; permanent for any other refusal. 404 and 410 mean the subscription is gone, so it is also
    marked inactive. The endpoint is checked when sending, against the address actually connected to
    (``config.outbound``): one that is not on a push service in ``PUSH_SERVICE_HOSTS``, or resolves to a private
    address, fails for good without a request. A redirect is not followed. The error keeps the status and our
    own words, never what the push service or the socket said.
    """

    def send(self, delivery: Delivery) -> str:
        if not (settings.VAPID_PRIVATE_KEY and settings.VAPID_SUBJECT):
            raise ChannelError("Web Push is not configured (VAPID_PRIVATE_KEY, VAPID_SUBJECT)", permanent=True,
                               code="not-configured")
        subscription = PushSubscription.objects.filter(endpoint=delivery.address, active=True).first()
        if subscription is None:
            raise ChannelError("No active push subscription at this address", permanent=True,
                               code="no-subscription")
        try:
            with guarded_session(push_policy()) as session:
                response = webpush(
                    subscription.subscription_info(), data=json.dumps(payload(delivery)),
                    vapid_private_key=settings.VAPID_PRIVATE_KEY, vapid_claims={"sub": settings.VAPID_SUBJECT},
                    ttl=settings.WEBPUSH_TTL, timeout=settings.WEBPUSH_TIMEOUT,
                    headers={"Urgency": URGENCY[delivery.kind]},
                    requests_session=session,
                )
        except OutboundRefused as error:
            raise ChannelError(f"Push endpoint refused, nothing sent: {error}", permanent=True,
                               code="endpoint-refused") from error
        except WebPushException as error:
            raise refused(error, subscription) from error
        except ValueError as error:
            raise ChannelError("Push keys unusable: the browser's keys are malformed", permanent=True,
                               code="invalid-key") from error
        except requests.RequestException as error:
            if nothing_sent(error):
                raise ChannelError(f"Push service could not be reached: {failure_reason(error)}",
                                   code="network") from error
            raise ChannelError(f"No answer from the push service, push may have gone: {failure_reason(error)}",
                               unknown=True, code="timeout") from error
        return response.headers.get("Location", "").rsplit("/", 1)[-1][:100]


def payload(delivery: Delivery) -> dict:
    """What the field app's service worker receives: a notification's title and body, which a locked phone shows,
    so only what it may show (a callout's unit and message, which operators write for that; a notice's lock-screen
    text, ``callouts.notices.LockScreen``), and where the app opens it. An alert also carries the token that
    answers it from the notification's Accept and Decline (``callouts.push_answers``)."""
    if delivery.kind == Delivery.Kind.NOTICE:
        kind, url = ("circulation", f"{APP_URL}#/circulations") if delivery.topic.startswith(CIRCULATION_TOPIC) \
            else ("notice", APP_URL)
        return {"kind": kind, "title": delivery.subject, "body": delivery.body[:MAX_BODY], "url": url}
    callout = delivery.recipient.callout
    about = {"callout": callout.pk, "title": push_title(callout), "url": f"{APP_URL}#/callouts/{callout.pk}"}
    if delivery.kind == Delivery.Kind.UPDATE:
        return {"kind": "callout-update", **about, "body": update_text(delivery.subject, delivery.body)[:MAX_BODY]}
    return {"kind": "callout", **about, "body": callout.message[:MAX_BODY],
            "answer": {"url": ANSWER_URL, "token": push_answer_token(delivery.recipient_id)}}


def refused(error: WebPushException, subscription: PushSubscription) -> ChannelError:
    status = error.status_code
    if status in GONE:
        PushSubscription.objects.filter(pk=subscription.pk).update(active=False)
    temporary = status == 429 or (status is not None and status >= 500)
    # pywebpush's message carries the response body: only the status is kept.
    return ChannelError(f"Push service answered {status_reason(status)}", permanent=not temporary,
                        code=str(status or "refused"))
