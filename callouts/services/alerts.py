"""The deliveries callout operations create and stop; the module every operation writes its alerts through."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from callouts import messages
from callouts.models import Callout, Delivery, Recipient
from units.models import ContactMethod


def notify(callout: Callout, recipients, now: datetime, kind: str = Delivery.Kind.ALERT, sequence: int = 0,
           text: str = "", by_voice: bool = False) -> list[Delivery]:
    """Create one delivery per contact method of every recipient still waiting, by their own rule. ``recipients``
    is a queryset for an alert (those who answered are left out) and any iterable of recipients for an update.

    An alert uses every channel. An update uses a voice call only when ``by_voice``: a call is the one channel
    that cannot wait to be read, and a robot reading an update aloud at 3 a.m. is asked for, never a default.
    """
    recipients = list(recipients.filter(response=Recipient.Response.NONE) if kind == Delivery.Kind.ALERT
                      else recipients)
    Recipient.objects.filter(id__in=[r.id for r in recipients], notified_at__isnull=True).update(notified_at=now)
    methods: dict[int, list[ContactMethod]] = {}
    for method in ContactMethod.objects.filter(person_id__in=[r.person_id for r in recipients], person__active=True):
        methods.setdefault(method.person_id, []).append(method)
    deliveries = []
    for recipient in recipients:
        for method in methods.get(recipient.person_id, ()):
            if kind != Delivery.Kind.ALERT and method.kind == ContactMethod.Kind.VOICE and not by_voice:
                continue
            subject, body = messages.compose(callout, method.kind, kind=kind, text=text, recipient_id=recipient.id)
            deliveries.append(Delivery(
                recipient=recipient, kind=kind, round=callout.round, sequence=sequence, channel=method.kind,
                address=method.address, subject=subject, body=body,
                due_at=now + timedelta(minutes=method.delay_minutes if kind == Delivery.Kind.ALERT else 0),
            ))
    return Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def stop_alerts(deliveries) -> int:
    """Alerts not yet handed to a provider are cancelled; what is already sending finishes."""
    return deliveries.filter(kind=Delivery.Kind.ALERT, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now()
    )


def next_sequence(callout: Callout, kind: str) -> int:
    latest = Delivery.objects.filter(recipient__callout=callout, kind=kind).aggregate(Max("sequence"))
    return (latest["sequence__max"] or 0) + 1


def bring_forward_next_channel(delivery: Delivery, now: datetime) -> None:
    """A channel that failed for good should not make the person wait for their next channel's delay."""
    same_message = (Q(recipient_id=delivery.recipient_id, round=delivery.round) if delivery.recipient_id
                    else Q(person_id=delivery.person_id, topic=delivery.topic))
    following = (Delivery.objects.filter(same_message, kind=delivery.kind, state=Delivery.State.PENDING,
                                         due_at__gt=now).order_by("due_at").first())
    if following:
        Delivery.objects.filter(pk=following.pk, state=Delivery.State.PENDING).update(due_at=now)


def dispatch_soon() -> None:
    from callouts.tasks import dispatch

    dispatch.delay()
