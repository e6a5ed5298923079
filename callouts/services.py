"""Callout operations: launch, escalate, respond, and the delivery claims the beat sweep makes.

Every timer is a row: a callout's ``escalate_at`` and a delivery's ``due_at``. The sweep claims due rows
with ``select_for_update(skip_locked=True)`` and acts on them in the same short transaction, so two
workers never act on one row and a restart loses nothing.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.utils import timezone

from callouts import messages
from callouts import need as needs
from callouts.channels import ChannelError, channel_for
from callouts.models import Callout, Delivery, EscalationPolicy, Recipient, ResponseRecord
from units.audit import acting, audit_event
from units.models import ContactMethod, Membership, Person, Unit
from units.schedule import resolve_callout_lists

log = logging.getLogger(__name__)

OPERATOR_TIER = 99


class CalloutError(Exception):
    """A request the callout's state does not allow; the message is for the person who asked."""


def policy_snapshot(unit: Unit) -> tuple[dict, dict]:
    policy, _ = EscalationPolicy.objects.get_or_create(unit=unit)
    waits = {str(tier.position): policy.wait_minutes * 60 for tier in unit.tiers.all()}
    for tier_wait in policy.tier_waits.select_related("tier"):
        waits[str(tier_wait.tier.position)] = tier_wait.wait_minutes * 60
    frozen = {
        "waits": waits,
        "default_wait": policy.wait_minutes * 60,
        "move_on_when_hopeless": policy.move_on_when_hopeless,
        "repeat_count": policy.repeat_count,
        "fallback_to_operators": policy.fallback_to_operators,
    }
    return frozen, needs.need_from_policy(policy)


def callout_launch(*, unit: Unit, message: str, actor, incident_ref: str = "", need: dict | None = None,
                   priority: str = Callout.Priority.URGENT, exercise: bool = False,
                   idempotency_key: str | None = None) -> Callout:
    """Freeze the unit's lists and policy, alert the first list that has anyone on it.

    A retried launch with the same idempotency key returns the first callout instead of paging twice,
    also when the two arrive at the same moment (the unique key decides).
    """
    if idempotency_key and (existing := Callout.objects.filter(idempotency_key=idempotency_key).first()):
        return existing
    try:
        return launch(unit=unit, message=message, actor=actor, incident_ref=incident_ref, need=need,
                      priority=priority, exercise=exercise, idempotency_key=idempotency_key)
    except IntegrityError:
        if idempotency_key and (existing := Callout.objects.filter(idempotency_key=idempotency_key).first()):
            return existing
        raise


def launch(*, unit: Unit, message: str, actor, incident_ref: str, need: dict | None, priority: str,
           exercise: bool, idempotency_key: str | None) -> Callout:
    with transaction.atomic(), acting(actor):
        now = timezone.now()
        policy, default_need = policy_snapshot(unit)
        callout = Callout(
            unit=unit, message=message, incident_ref=incident_ref, priority=priority, need=need or default_need,
            policy=policy, launched_by=actor, launched_at=now, exercise=exercise, idempotency_key=idempotency_key,
        )
        callout.full_clean()
        callout.save()
        freeze_recipients(callout, now)
        alert_next_tier(callout, now)
        audit_event(event="callout_launched", target=callout, actor=actor, message="Callout launched",
                    data={"unit": unit.code, "need": callout.need, "recipients": callout.recipients.count()})
        transaction.on_commit(dispatch_soon)
    return callout


def freeze_recipients(callout: Callout, now: datetime) -> list[Recipient]:
    members = {
        m.person_id: m
        for m in Membership.objects.filter(unit=callout.unit).prefetch_related("qualifications")
    }
    recipients, seen = [], set()
    for resolved in resolve_callout_lists(callout.unit, now):
        for entry in resolved.entries:
            if entry.person.id in seen:
                continue
            seen.add(entry.person.id)
            membership = members.get(entry.person.id)
            recipients.append(Recipient(
                callout=callout, person=entry.person, tier_position=resolved.tier.position,
                tier_name=resolved.tier.name, reasons=[r.text for r in entry.reasons],
                role=membership.role if membership else "",
                qualifications=[q.code for q in membership.qualifications.all()] if membership else [],
            ))
    return Recipient.objects.bulk_create(recipients)


def alert_next_tier(callout: Callout, now: datetime) -> None:
    """Alert the next list with anyone on it; past the last, repeat or fall back. Caller holds the row."""
    positions = sorted(set(
        callout.recipients.filter(tier_position__gt=callout.current_tier, tier_position__lt=OPERATOR_TIER)
        .values_list("tier_position", flat=True)
    ))
    if positions:
        position = positions[0]
        callout.current_tier = position
        callout.escalate_at = now + timedelta(seconds=wait_seconds(callout, position))
        callout.save(update_fields=["current_tier", "escalate_at"])
        notify(callout, callout.recipients.filter(tier_position=position), now)
    elif callout.round <= callout.policy["repeat_count"] and callout.recipients.exists():
        callout.round += 1
        callout.current_tier = 0
        callout.save(update_fields=["round", "current_tier"])
        alert_next_tier(callout, now)
    else:
        callout.state = Callout.State.EXHAUSTED
        callout.escalate_at = None
        callout.save(update_fields=["state", "escalate_at"])
        audit_event(event="callout_exhausted", target=callout, message="Every list exhausted")
        if callout.policy["fallback_to_operators"]:
            alert_operators(callout, now)


def wait_seconds(callout: Callout, position: int) -> int:
    return callout.policy["waits"].get(str(position), callout.policy["default_wait"])


def notify(callout: Callout, recipients, now: datetime, kind: str = Delivery.Kind.ALERT, sequence: int = 0,
           text: str = "") -> list[Delivery]:
    """Create one delivery per contact method of every recipient still waiting, by their own rule."""
    recipients = list(recipients.filter(response=Recipient.Response.NONE) if kind == Delivery.Kind.ALERT
                      else recipients)
    Recipient.objects.filter(id__in=[r.id for r in recipients], notified_at__isnull=True).update(notified_at=now)
    methods: dict[int, list[ContactMethod]] = {}
    for method in ContactMethod.objects.filter(person_id__in=[r.person_id for r in recipients]):
        methods.setdefault(method.person_id, []).append(method)
    deliveries = []
    for recipient in recipients:
        for method in methods.get(recipient.person_id, ()):
            subject, body = messages.compose(callout, method.kind, kind=kind, text=text, recipient_id=recipient.id)
            deliveries.append(Delivery(
                recipient=recipient, kind=kind, round=callout.round, sequence=sequence, channel=method.kind,
                address=method.address, subject=subject, body=body,
                due_at=now + timedelta(minutes=method.delay_minutes if kind == Delivery.Kind.ALERT else 0),
            ))
    return Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def alert_operators(callout: Callout, now: datetime) -> None:
    """Last resort: the duty operators are added to the callout and alerted by their own channels."""
    operators = Person.objects.filter(active=True, user__groups__name="Operators", user__is_active=True).exclude(
        callout_recipients__callout=callout
    ).distinct()
    added = Recipient.objects.bulk_create([
        Recipient(callout=callout, person=person, tier_position=OPERATOR_TIER, tier_name="Duty operators",
                  reasons=["Every list exhausted"])
        for person in operators
    ])
    text = f"Callout for {callout.unit} could not be filled: every list exhausted. Phone round now."
    notify(callout, Recipient.objects.filter(id__in=[r.id for r in added]), now, kind=Delivery.Kind.UPDATE,
           sequence=900 + callout.round, text=text)


def escalations_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Move every active callout whose wait has run out to its next list."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Callout.objects.select_for_update(skip_locked=True)
            .filter(state=Callout.State.ACTIVE, escalate_at__lte=now)
            .select_related("unit")
            .order_by("escalate_at")[:limit]
        )
        for callout in due:
            late = (now - callout.escalate_at).total_seconds()
            from_tier = callout.current_tier
            alert_next_tier(callout, now)
            audit_event(event="callout_escalated", target=callout, message="Escalated: wait ran out",
                        data={"from_tier": from_tier, "to_tier": callout.current_tier, "late_seconds": late})
        if due:
            transaction.on_commit(dispatch_soon)
    return len(due)


def callout_escalate_now(*, callout: Callout, actor) -> Callout:
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=callout.pk)
        if callout.state != Callout.State.ACTIVE:
            raise CalloutError(f"This callout is {callout.get_state_display().lower()}; it cannot be escalated.")
        from_tier = callout.current_tier
        alert_next_tier(callout, timezone.now())
        audit_event(event="callout_escalated", target=callout, actor=actor, message="Escalated by operator",
                    data={"from_tier": from_tier, "to_tier": callout.current_tier})
        transaction.on_commit(dispatch_soon)
    return callout


def callout_respond(*, recipient: Recipient, response: str, channel: str, actor=None, eta_minutes: int | None = None,
                    note: str = "") -> Recipient:
    """Record an answer from any channel. The callout row is locked, so concurrent accepts count exactly once."""
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=recipient.callout_id)
        if not callout.is_open:
            raise CalloutError(f"This callout is {callout.get_state_display().lower()}; answers are closed.")
        now = timezone.now()
        recipient = Recipient.objects.get(pk=recipient.pk)
        recipient.response, recipient.eta_minutes, recipient.note = response, eta_minutes, note
        recipient.responded_at, recipient.response_channel = now, channel
        recipient.save(update_fields=["response", "eta_minutes", "note", "responded_at", "response_channel"])
        ResponseRecord.objects.create(recipient=recipient, response=response, eta_minutes=eta_minutes, note=note,
                                      channel=channel, at=now, actor=actor if getattr(actor, "pk", None) else None)
        stop_alerts(Delivery.objects.filter(recipient=recipient))
        audit_event(event="callout_response", target=callout, actor=actor, message=f"{recipient.person}: {response}",
                    data={"person": recipient.person_id, "response": response, "channel": channel,
                          "eta_minutes": eta_minutes})
        reassess(callout, now)
    return recipient


def reassess(callout: Callout, now: datetime) -> None:
    """After an answer: fill, reopen, or move on at once when this list can no longer meet the need."""
    answered = list(callout.recipients.all())
    accepted = [r for r in answered if r.response == Recipient.Response.ACCEPT]
    met = needs.is_met(callout.need, accepted)
    if met and callout.state in (Callout.State.ACTIVE, Callout.State.EXHAUSTED):
        callout.state, callout.escalate_at = Callout.State.FILLED, None
        callout.save(update_fields=["state", "escalate_at"])
        stop_alerts(Delivery.objects.filter(recipient__callout=callout))
        audit_event(event="callout_filled", target=callout, message="Need met",
                    data={"accepted": [r.person_id for r in accepted]})
    elif not met and callout.state == Callout.State.FILLED:
        callout.state = Callout.State.ACTIVE
        callout.escalate_at = now + timedelta(seconds=wait_seconds(callout, callout.current_tier))
        callout.save(update_fields=["state", "escalate_at"])
        audit_event(event="callout_reopened", target=callout, message="An accept was withdrawn; need no longer met")
    move_on = callout.policy["move_on_when_hopeless"]
    if callout.state == Callout.State.ACTIVE and move_on and hopeless(callout, answered):
        alert_next_tier(callout, now)
        audit_event(event="callout_escalated", target=callout, message="Escalated: this list cannot meet the need",
                    data={"to_tier": callout.current_tier})
        transaction.on_commit(dispatch_soon)


def hopeless(callout: Callout, recipients: list[Recipient]) -> bool:
    """True when even if everyone alerted, silent and still reachable accepted, the need would not be met."""
    reachable = set(
        Delivery.objects.filter(recipient__callout=callout, kind=Delivery.Kind.ALERT, state__in=Delivery.LIVE_STATES)
        .values_list("recipient_id", flat=True)
    )
    possible = [r for r in recipients if r.response == Recipient.Response.ACCEPT
                or (r.response == Recipient.Response.NONE and r.notified_at is not None and r.id in reachable)]
    return not needs.is_met(callout.need, possible)


def stop_alerts(deliveries) -> int:
    """Alerts not yet handed to a provider are cancelled; what is already sending finishes."""
    return deliveries.filter(kind=Delivery.Kind.ALERT, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now()
    )


def callout_cancel(*, callout: Callout, actor, reason: str) -> Callout:
    """Cancel, and tell everyone who had accepted to stand down."""
    with transaction.atomic():
        callout = close(callout, actor, Callout.State.CANCELLED, reason, "callout_cancelled")
        accepted = callout.recipients.filter(response=Recipient.Response.ACCEPT)
        notify(callout, accepted, timezone.now(), kind=Delivery.Kind.UPDATE,
               sequence=next_sequence(callout, Delivery.Kind.UPDATE), text=f"STAND DOWN: callout cancelled. {reason}")
        transaction.on_commit(dispatch_soon)
    return callout


def callout_close(*, callout: Callout, actor, outcome: str) -> Callout:
    return close(callout, actor, Callout.State.CLOSED, outcome, "callout_closed")


def close(callout: Callout, actor, state: str, outcome: str, event: str) -> Callout:
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=callout.pk)
        if not callout.is_open:
            raise CalloutError(f"This callout is already {callout.get_state_display().lower()}.")
        callout.state, callout.outcome, callout.escalate_at = state, outcome, None
        callout.closed_at = timezone.now()
        callout.save(update_fields=["state", "outcome", "escalate_at", "closed_at"])
        stop_alerts(Delivery.objects.filter(recipient__callout=callout))
        audit_event(event=event, target=callout, actor=actor, message=outcome)
    return callout


def callout_add_people(*, callout: Callout, people: list[Person], actor) -> list[Recipient]:
    """An operator adds people by hand; they are alerted at once on the current list."""
    with transaction.atomic(), acting(actor):
        callout = locked_open(callout)
        already = set(callout.recipients.values_list("person_id", flat=True))
        members = {m.person_id: m for m in Membership.objects.filter(unit=callout.unit)
                   .prefetch_related("qualifications")}
        added = Recipient.objects.bulk_create([
            Recipient(callout=callout, person=person, tier_position=max(callout.current_tier, 1),
                      tier_name="Added by operator", reasons=[f"Added by {actor}"],
                      role=members[person.id].role if person.id in members else "",
                      qualifications=[q.code for q in members[person.id].qualifications.all()]
                      if person.id in members else [])
            for person in people if person.id not in already
        ])
        notify(callout, Recipient.objects.filter(id__in=[r.id for r in added]), timezone.now())
        audit_event(event="callout_people_added", target=callout, actor=actor, message="People added",
                    data={"people": [r.person_id for r in added]})
        transaction.on_commit(dispatch_soon)
    return added


def callout_resend_unanswered(*, callout: Callout, channel: str, actor) -> int:
    """Alert everyone alerted so far who has not answered, again, by one chosen channel, now."""
    with transaction.atomic(), acting(actor):
        callout = locked_open(callout)
        if callout.state == Callout.State.FILLED:
            raise CalloutError("This callout is already filled; send an update to those who accepted instead.")
        silent = callout.recipients.filter(notified_at__isnull=False, response=Recipient.Response.NONE)
        methods = ContactMethod.objects.filter(person__callout_recipients__in=silent, kind=channel)
        by_person = {m.person_id: m for m in methods}
        sequence = next_sequence(callout, Delivery.Kind.ALERT)
        now = timezone.now()
        deliveries = []
        for recipient in silent:
            if method := by_person.get(recipient.person_id):
                subject, body = messages.compose(callout, channel, recipient_id=recipient.id)
                deliveries.append(Delivery(
                    recipient=recipient, kind=Delivery.Kind.ALERT, round=callout.round, sequence=sequence,
                    channel=channel, address=method.address, subject=subject, body=body, due_at=now,
                ))
        created = Delivery.objects.bulk_create(deliveries)
        audit_event(event="callout_resent", target=callout, actor=actor, message=f"Resent by {channel}",
                    data={"channel": channel, "deliveries": len(created)})
        transaction.on_commit(dispatch_soon)
    return len(created)


def callout_send_update(*, callout: Callout, text: str, actor, stand_down: bool = False) -> int:
    """Send an update, or a stand-down, to everyone who has accepted."""
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=callout.pk)
        text = f"STAND DOWN. {text}" if stand_down else text
        accepted = callout.recipients.filter(response=Recipient.Response.ACCEPT)
        created = notify(callout, accepted, timezone.now(), kind=Delivery.Kind.UPDATE,
                         sequence=next_sequence(callout, Delivery.Kind.UPDATE), text=text)
        audit_event(event="callout_stand_down" if stand_down else "callout_update", target=callout, actor=actor,
                    message=text, data={"deliveries": len(created)})
        transaction.on_commit(dispatch_soon)
    return len(created)


def locked_open(callout: Callout) -> Callout:
    callout = Callout.objects.select_for_update().select_related("unit").get(pk=callout.pk)
    if not callout.is_open:
        raise CalloutError(f"This callout is {callout.get_state_display().lower()}.")
    return callout


def next_sequence(callout: Callout, kind: str) -> int:
    latest = Delivery.objects.filter(recipient__callout=callout, kind=kind).aggregate(Max("sequence"))
    return (latest["sequence__max"] or 0) + 1


def deliveries_lease(*, now: datetime | None = None, limit: int = 2000) -> list[int]:
    """Lease due deliveries to the workers; a lease that runs out unsent is handed out again."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=Delivery.State.PENDING, due_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .values_list("id", flat=True)[:limit]
        )
        Delivery.objects.filter(id__in=due).update(lease_until=now + timedelta(seconds=settings.DELIVERY_LEASE))
    return due


LATER = "later"


def deliveries_send(*, delivery_ids: list[int], until: float | None = None) -> dict[int, str]:
    """Send a worker's chunk of deliveries, each at most once: one query loads them all, then they are claimed,
    handed to the providers and marked sent a batch at a time.

    Past ``until`` (a ``time.monotonic()`` value) no further batch is started: the rest stay pending, marked
    ``LATER`` in the result for the caller to queue again, so slow providers never hold the worker for long.
    """
    deliveries = (Delivery.objects.filter(pk__in=delivery_ids, state=Delivery.State.PENDING)
                  .select_related("recipient__callout").order_by("due_at", "id"))
    outcomes, wanted = {}, []
    for delivery in deliveries:
        if still_wanted(delivery):
            wanted.append(delivery)
        else:
            outcomes[delivery.pk] = cancel_unwanted(delivery)
    for start in range(0, len(wanted), settings.DELIVERY_SEND_BATCH):
        if start and until is not None and time.monotonic() > until:
            outcomes.update(dict.fromkeys((d.pk for d in wanted[start:]), LATER))
            break
        outcomes.update(send_batch(wanted[start:start + settings.DELIVERY_SEND_BATCH]))
    return outcomes


def delivery_send(*, delivery_id: int) -> str:
    return deliveries_send(delivery_ids=[delivery_id]).get(delivery_id, "not-claimed")


def still_wanted(delivery: Delivery) -> bool:
    """An alert is wanted only while its person has not answered and the callout still wants people."""
    if delivery.kind != Delivery.Kind.ALERT:
        return True
    recipient = delivery.recipient
    return recipient.response == Recipient.Response.NONE and recipient.callout.state in (
        Callout.State.ACTIVE, Callout.State.EXHAUSTED)


def cancel_unwanted(delivery: Delivery) -> str:
    cancelled = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now())
    return Delivery.State.CANCELLED if cancelled else "not-claimed"


def send_batch(deliveries: list[Delivery]) -> dict[int, str]:
    """Claim, hand over and record a batch; what the claim did not get is someone else's or already done."""
    claimed = claim(deliveries)
    outcomes = {delivery.pk: "not-claimed" for delivery in deliveries}
    sent = {}
    for delivery, result in hand_over(claimed):
        if isinstance(result, str):
            sent[delivery.pk] = result
        elif result.unknown:
            outcomes[delivery.pk] = delivery_outcome_unknown(delivery=delivery, error=result)
        else:
            outcomes[delivery.pk] = delivery_failed(delivery=delivery, error=result)
    if sent:
        now = timezone.now()
        Delivery.objects.filter(pk__in=sent, state=Delivery.State.SENDING).update(
            state=Delivery.State.SENT, sent_at=now, updated_at=now,
            provider_message_id=Case(*(When(pk=pk, then=Value(message_id)) for pk, message_id in sent.items())),
        )
        outcomes.update(dict.fromkeys(sent, Delivery.State.SENT))
    return outcomes


def claim(deliveries: list[Delivery]) -> list[Delivery]:
    """Mark the batch sending, with a deadline, committed before any provider is called: a second worker, or
    a second run of the task, finds nothing to claim (healthchecks' conditional-update claim).

    The rows were loaded with their recipient and callout. Whatever makes an alert unwanted after that (an
    answer, the need met, a cancel) cancels its pending deliveries in the same transaction, so the claim's
    ``state`` condition sees it without joining the recipient and callout again.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = set(Delivery.objects.select_for_update(skip_locked=True).filter(
            pk__in=[d.pk for d in deliveries], state=Delivery.State.PENDING, due_at__lte=now,
        ).values_list("id", flat=True))
        Delivery.objects.filter(pk__in=ids).update(
            state=Delivery.State.SENDING, attempts=F("attempts") + 1, updated_at=now,
            send_deadline=now + timedelta(seconds=settings.DELIVERY_SEND_TIMEOUT),
        )
    claimed = [d for d in deliveries if d.pk in ids]
    for delivery in claimed:
        delivery.state, delivery.attempts = Delivery.State.SENDING, delivery.attempts + 1
    return claimed


def hand_over(deliveries: list[Delivery]) -> list[tuple[Delivery, str | ChannelError]]:
    """Give each delivery to its channel: the provider's message id, or the error.

    Channels that wait on a provider's answer are called side by side, so a batch takes about as long as its
    slowest request rather than the sum of them; the recording channel, which only writes a row, runs inline.
    """
    inline = [d for d in deliveries if not getattr(channel_for(d.channel), "blocking_io", True)]
    parallel = [d for d in deliveries if d not in inline]
    results = []
    for channel, batch in itertools.groupby(inline, key=lambda d: channel_for(d.channel)):
        batch = list(batch)
        results.extend(zip(batch, attempt_many(channel, batch), strict=True) if hasattr(channel, "send_many")
                       else ((d, attempt(d)) for d in batch))
    if len(parallel) == 1:
        results.append((parallel[0], attempt(parallel[0])))
    elif parallel:
        results.extend(zip(parallel, send_pool().map(attempt_in_thread, parallel), strict=True))
    return results


def attempt(delivery: Delivery) -> str | ChannelError:
    try:
        return channel_for(delivery.channel).send(delivery)
    except ChannelError as error:
        return error
    except Exception as error:
        # A channel that raises anything else may already have handed the message over: never send it again.
        log.exception("Channel %s raised on delivery %s", delivery.channel, delivery.pk)
        return ChannelError(str(error), code="exception", unknown=True)


def attempt_many(channel, deliveries: list[Delivery]) -> list[str | ChannelError]:
    try:
        return channel.send_many(deliveries)
    except Exception as error:
        log.exception("Channel %s raised on deliveries %s", type(channel).__name__, [d.pk for d in deliveries])
        return [ChannelError(str(error), code="exception", unknown=True)] * len(deliveries)


def attempt_in_thread(delivery: Delivery) -> str | ChannelError:
    try:
        return attempt(delivery)
    finally:
        connections.close_all()  # this thread's own connections, if its channel opened one


_pool: tuple[int, ThreadPoolExecutor] | None = None


def send_pool() -> ThreadPoolExecutor:
    """One pool per process, made after the worker forks: a pool inherited across fork has no threads."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(settings.DELIVERY_SEND_BATCH, thread_name_prefix="send"))
    return _pool[1]


def delivery_outcome_unknown(*, delivery: Delivery, error: ChannelError) -> str:
    """Whether the provider took the message is unknown: it stays ``sending`` for the watchdog and a late
    status report, is not sent again, and the person's next channel is used at once."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
        error_code=error.code, error=str(error), updated_at=now
    )
    log.error("Delivery %s outcome unknown, not sending again: %s", delivery.pk, error)
    bring_forward_next_channel(delivery, now)
    return Delivery.State.SENDING


def delivery_failed(*, delivery: Delivery, error: ChannelError) -> str:
    now = timezone.now()
    if not error.permanent and delivery.attempts < settings.DELIVERY_MAX_ATTEMPTS:
        backoff = min(settings.DELIVERY_RETRY_BASE * 2 ** (delivery.attempts - 1), 60)
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
            state=Delivery.State.PENDING, lease_until=None,
            due_at=now + timedelta(seconds=backoff * random.uniform(0.8, 1.2)),
            error_code=error.code, error=str(error), updated_at=now,
        )
        log.warning("Delivery %s failed (%s), retrying in about %ss", delivery.pk, error, backoff)
        return Delivery.State.PENDING
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
        state=Delivery.State.FAILED, error_code=error.code, error=str(error), updated_at=now
    )
    log.error("Delivery %s failed for good: %s", delivery.pk, error)
    failed_for_good(delivery, now)
    return Delivery.State.FAILED


def failed_for_good(delivery: Delivery, now: datetime) -> None:
    """The person's next channel is used at once, and the list may now be unable to meet the need."""
    bring_forward_next_channel(delivery, now)
    if delivery.recipient_id is None:
        return
    with transaction.atomic():
        callout = Callout.objects.select_for_update().get(pk=delivery.recipient.callout_id)
        if callout.state == Callout.State.ACTIVE:
            reassess(callout, now)


# Status only moves forward: a replayed or late provider report finds its state already past and changes nothing.
STATE_RANK = {
    Delivery.State.PENDING: 0, Delivery.State.SENDING: 1, Delivery.State.SENT: 2,
    Delivery.State.DELIVERED: 3, Delivery.State.FAILED: 3, Delivery.State.CANCELLED: 3,
}


def delivery_status_reported(*, provider_message_id: str, state: str, error_code: str = "", error: str = "",
                             delivery_id: int | None = None) -> bool:
    """A provider reports what became of a message; True when the delivery moved forward.

    The report names our delivery id when it can, so a send whose worker died before storing the
    provider's id is still settled; the provider's id is stored then.
    """
    found = Delivery.objects.filter(pk=delivery_id) if delivery_id else Delivery.objects.none()
    delivery = found.filter(provider_message_id__in=["", provider_message_id]).first() or (
        Delivery.objects.filter(provider_message_id=provider_message_id).first()
    )
    if delivery is None:
        log.warning("Provider status %s for unknown message %s", state, provider_message_id)
        return False
    now = timezone.now()
    changes = {"state": state, "updated_at": now, "provider_message_id": provider_message_id}
    if state == Delivery.State.FAILED:
        changes.update(error_code=error_code[:40], error=error)
    earlier = [s for s, rank in STATE_RANK.items() if rank < STATE_RANK[state]]
    if Delivery.objects.filter(pk=delivery.pk, state__in=earlier).update(**changes) != 1:
        return False
    if state == Delivery.State.FAILED:
        log.warning("Delivery %s failed at the provider: %s %s", delivery.pk, error_code, error)
        failed_for_good(delivery, now)
    return True


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
