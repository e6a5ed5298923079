"""Callout operations: launch, escalate, respond, and the operator's actions on a live callout.

Every timer is a row: a callout's ``escalate_at``. The sweep claims due callouts with
``select_for_update(skip_locked=True)`` and acts on them in the same short transaction, so two workers never
act on one callout and a restart loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from callouts import messages
from callouts.clock import db_now
from callouts.idempotency import IdempotencyKey, IdempotencyKeyReused, keyed_callout, request_fingerprint, same_request
from callouts.models import Callout, Delivery, EscalationPolicy, Recipient, ResponseRecord
from callouts.need import Need
from callouts.services.alerts import dispatch_soon, next_sequence, notify, stop_alerts
from units.audit import acting, audit_event
from units.models import ContactMethod, Membership, Person, Unit
from units.schedule import resolve_callout_lists

log = logging.getLogger(__name__)

OPERATOR_TIER = 99


class CalloutError(Exception):
    """A request the callout's state does not allow; the message is for the person who asked."""


def callout_launch(*, unit: Unit, message: str, actor, incident_ref: str = "", need: Need | None = None,
                   priority: str = Callout.Priority.URGENT, exercise: bool = False) -> Callout:
    """Freeze the unit's lists and policy, alert the first list that has anyone on it.

    Without a need, the unit's policy decides what fills the callout.
    """
    return launch(unit=unit, message=message, actor=actor, incident_ref=incident_ref, need=need, priority=priority,
                  exercise=exercise)


def callout_launch_once(*, unit: Unit, message: str, actor, key: IdempotencyKey, incident_ref: str = "",
                        need: Need | None = None, priority: str = Callout.Priority.URGENT,
                        exercise: bool = False) -> tuple[Callout, bool]:
    """Launch, unless this caller's key has launched already: then return that callout (and False for created).

    Also when two launches with the key arrive together: the unique key decides which one pages the unit, and the
    other gets its callout. A key that launched a different request raises IdempotencyKeyReused and pages nobody.
    """
    fingerprint = request_fingerprint(unit=unit, message=message, incident_ref=incident_ref, priority=priority,
                                      exercise=exercise, need=need)
    if existing := keyed_callout(actor=actor, key=key):
        return replayed(existing, key, fingerprint), False
    try:
        callout = launch(unit=unit, message=message, actor=actor, incident_ref=incident_ref, need=need,
                         priority=priority, exercise=exercise, key=key, fingerprint=fingerprint)
    except IntegrityError:
        if existing := keyed_callout(actor=actor, key=key):
            return replayed(existing, key, fingerprint), False
        raise
    return callout, True


def replayed(callout: Callout, key: IdempotencyKey, fingerprint: str) -> Callout:
    """The callout the key launched, when the request is the one it launched."""
    if not same_request(callout, fingerprint):
        log.warning("Idempotency key of %s reused for another launch than callout %s", callout.launched_by_id,
                    callout.pk)
        raise IdempotencyKeyReused(key, callout)
    return callout


def launch(*, unit: Unit, message: str, actor, incident_ref: str, need: Need | None, priority: str, exercise: bool,
           key: IdempotencyKey | None = None, fingerprint: str = "") -> Callout:
    with transaction.atomic(), acting(actor):
        now = db_now()
        policy = EscalationPolicy.for_unit(unit)
        need = need if need is not None else policy.need()
        callout = Callout(
            unit=unit, message=message, incident_ref=incident_ref, priority=priority, need=need.to_json(),
            policy=policy.snapshot().to_json(), launched_by=actor, launched_at=now, exercise=exercise,
            idempotency_key=key.value if key else "", idempotency_origin=key.origin if key else "",
            idempotency_fingerprint=fingerprint,
        )
        # The key's uniqueness is left to the database: a twin launch racing this one must meet the unique index
        # (an IntegrityError, answered with the first callout), never full_clean's look-up (a 400).
        callout.full_clean(exclude=["idempotency_key"])
        callout.save()
        freeze_recipients(callout, now)
        alert_next_tier(callout, now)
        audit_event(event="callout_launched", target=callout, actor=actor, message="Callout launched",
                    data={"unit": unit.code, "need": need.to_json(), "recipients": callout.recipients.count()})
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


def next_list(callout: Callout, positions: Iterable[int]) -> tuple[int, int] | None:
    """What the callout's next escalation alerts, as (round, list position): the next list with anyone on it,
    past the last the first again while the policy repeats; None when the next escalation exhausts the callout.

    ``positions`` are the list positions of the callout's recipients. The live page asks this too, so what it
    says comes next is what the escalation does.
    """
    lists = sorted({position for position in positions if position < OPERATOR_TIER})
    if later := [position for position in lists if position > callout.current_tier]:
        return callout.round, later[0]
    if lists and callout.round <= callout.frozen_policy.repeat_count:
        return callout.round + 1, lists[0]
    return None


def alert_next_tier(callout: Callout, now: datetime) -> None:
    """Alert the next list with anyone on it; past the last, repeat or fall back. Caller holds the row."""
    upcoming = next_list(callout, callout.recipients.order_by().values_list("tier_position", flat=True).distinct())
    if upcoming is None:
        callout.state = Callout.State.EXHAUSTED
        callout.escalate_at = None
        callout.save(update_fields=["state", "escalate_at"])
        audit_event(event="callout_exhausted", target=callout, message="Every list exhausted")
        if callout.frozen_policy.fallback_to_operators:
            alert_operators(callout, now)
        return
    callout.round, callout.current_tier = upcoming
    callout.escalate_at = now + timedelta(seconds=wait_seconds(callout, callout.current_tier))
    callout.save(update_fields=["round", "current_tier", "escalate_at"])
    notify(callout, callout.recipients.filter(tier_position=callout.current_tier), now)


def wait_seconds(callout: Callout, position: int) -> int:
    return callout.frozen_policy.wait_seconds(position)


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
           sequence=900 + callout.round, text=text, by_voice=True)  # the policy promises them a phone call


def escalations_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Move every active callout whose wait has run out to its next list."""
    now = now or db_now()
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
        alert_next_tier(callout, db_now())
        audit_event(event="callout_escalated", target=callout, actor=actor, message="Escalated by operator",
                    data={"from_tier": from_tier, "to_tier": callout.current_tier})
        transaction.on_commit(dispatch_soon)
    return callout


def callout_respond(*, recipient: Recipient, response: str, channel: str, actor=None, eta_minutes: int | None = None,
                    note: str = "") -> Recipient:
    """Record an answer from any channel. The callout row is locked, so concurrent accepts count exactly once.

    An ETA goes only with an accept; one sent with a decline is dropped rather than the decline refused. The same
    answer as the one recorded (response, ETA and note) records nothing, unless the person was stood down since.
    """
    if response != Recipient.Response.ACCEPT:
        eta_minutes = None
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=recipient.callout_id)
        if not callout.is_open:
            raise CalloutError(f"This callout is {callout.get_state_display().lower()}; answers are closed.")
        now = db_now()
        recipient = Recipient.objects.get(pk=recipient.pk)
        if (recipient.response, recipient.eta_minutes, recipient.note) == (response, eta_minutes, note) \
                and not recipient.stood_down:
            # The same answer again (an app's queued answer sent a second time, Accept on the notification and
            # then in the app): it tells nothing new, and recording it would move the time of the first.
            return recipient
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
    met = callout.frozen_need.is_met(accepted)
    if met and callout.state in (Callout.State.ACTIVE, Callout.State.EXHAUSTED):
        callout.state, callout.escalate_at = Callout.State.FILLED, None
        callout.save(update_fields=["state", "escalate_at"])
        # People an operator added by name are still wanted: only the alerts the need asked for stop.
        stop_alerts(Delivery.objects.filter(recipient__callout=callout, recipient__added_by_operator=False))
        audit_event(event="callout_filled", target=callout, message="Need met",
                    data={"accepted": [r.person_id for r in accepted]})
    elif not met and callout.state == Callout.State.FILLED:
        callout.state = Callout.State.ACTIVE
        callout.escalate_at = now + timedelta(seconds=wait_seconds(callout, callout.current_tier))
        callout.save(update_fields=["state", "escalate_at"])
        audit_event(event="callout_reopened", target=callout, message="An accept was withdrawn; need no longer met")
    move_on = callout.frozen_policy.move_on_when_hopeless
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
    return not callout.frozen_need.is_met(possible)


def callout_cancel(*, callout: Callout, actor, reason: str) -> Callout:
    """Cancel, and tell everyone who accepted, and was not stood down since, to stand down."""
    with transaction.atomic():
        callout = close(callout, actor, Callout.State.CANCELLED, reason, "callout_cancelled")
        tell_to_stand_down(callout, not_stood_down(callout), callout.closed_at,
                           f"{messages.STAND_DOWN}: callout cancelled. {reason}")
        transaction.on_commit(dispatch_soon)
    return callout


def callout_close(*, callout: Callout, actor, outcome: str) -> Callout:
    """Close with the outcome, and tell everyone who accepted, and was not stood down since, to stand down.

    The outcome is the operators' record and is not sent: it may name victims and suspects.
    """
    with transaction.atomic():
        callout = close(callout, actor, Callout.State.CLOSED, outcome, "callout_closed")
        tell_to_stand_down(callout, not_stood_down(callout), callout.closed_at,
                           f"{messages.STAND_DOWN}: callout closed.")
        transaction.on_commit(dispatch_soon)
    return callout


def not_stood_down(callout: Callout):
    """Who accepted and has not been told to stand down since their answer."""
    return callout.recipients.filter(response=Recipient.Response.ACCEPT).filter(
        Q(stood_down_at__isnull=True) | Q(stood_down_at__lt=F("responded_at")))


def tell_to_stand_down(callout: Callout, recipients: Iterable[Recipient], now: datetime, text: str,
                       by_voice: bool = False) -> list[Delivery]:
    """Tell ``recipients`` to stand down, and record that they were: the live page shows them stood down."""
    recipients = list(recipients)
    Recipient.objects.filter(id__in=[recipient.id for recipient in recipients]).update(stood_down_at=now)
    return notify(callout, recipients, now, kind=Delivery.Kind.UPDATE,
                  sequence=next_sequence(callout, Delivery.Kind.UPDATE), text=text, by_voice=by_voice)


def close(callout: Callout, actor, state: str, outcome: str, event: str) -> Callout:
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=callout.pk)
        if not callout.is_open:
            raise CalloutError(f"This callout is already {callout.get_state_display().lower()}.")
        callout.state, callout.outcome, callout.escalate_at = state, outcome, None
        callout.closed_at = db_now()
        callout.save(update_fields=["state", "outcome", "escalate_at", "closed_at"])
        stop_alerts(Delivery.objects.filter(recipient__callout=callout))
        audit_event(event=event, target=callout, actor=actor, message=outcome)
    return callout


def callout_add_people(*, callout: Callout, people: list[Person], actor) -> list[Recipient]:
    """An operator adds people by hand; they are alerted at once on the current list, and go on being alerted
    until they answer or the callout ends, even when the need is already met: the operator asked for them."""
    with transaction.atomic(), acting(actor):
        callout = locked_open(callout)
        already = set(callout.recipients.values_list("person_id", flat=True))
        members = {m.person_id: m for m in Membership.objects.filter(unit=callout.unit)
                   .prefetch_related("qualifications")}
        added = Recipient.objects.bulk_create([
            Recipient(callout=callout, person=person, tier_position=max(callout.current_tier, 1),
                      tier_name="Added by operator", reasons=[f"Added by {actor}"], added_by_operator=True,
                      role=members[person.id].role if person.id in members else "",
                      qualifications=[q.code for q in members[person.id].qualifications.all()]
                      if person.id in members else [])
            for person in people if person.id not in already
        ])
        notify(callout, Recipient.objects.filter(id__in=[r.id for r in added]), db_now())
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
        now = db_now()
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


@dataclass(frozen=True)
class UpdateSent:
    """What an update or a stand-down did: messages made, to how many people, and who had no channel it uses."""

    messages: int
    people: int
    unreached: list[str]


def callout_send_update(*, callout: Callout, text: str, actor, stand_down: bool = False,
                        by_voice: bool = False) -> UpdateSent:
    """Send an update, or a stand-down, to everyone who has accepted and not been stood down since; by voice call
    too only if ``by_voice``.

    A callout that has ended stood everyone down when it ended, so it takes no more messages.
    """
    with transaction.atomic(), acting(actor):
        callout = Callout.objects.select_for_update().get(pk=callout.pk)
        if not callout.is_open:
            raise CalloutError(f"This callout is {callout.get_state_display().lower()}: those who accepted were "
                               "told to stand down when it ended.")
        now = db_now()
        accepted = list(not_stood_down(callout).select_related("person"))
        if stand_down:
            text = f"{messages.STAND_DOWN}. {text}".strip()
            created = tell_to_stand_down(callout, accepted, now, text, by_voice)
        else:
            created = notify(callout, accepted, now, kind=Delivery.Kind.UPDATE,
                             sequence=next_sequence(callout, Delivery.Kind.UPDATE), text=text, by_voice=by_voice)
        reached = {delivery.recipient_id for delivery in created}
        audit_event(event="callout_stand_down" if stand_down else "callout_update", target=callout, actor=actor,
                    message=text, data={"deliveries": len(created), "by_voice": by_voice})
        transaction.on_commit(dispatch_soon)
    return UpdateSent(messages=len(created), people=len(reached),
                      unreached=[str(r.person) for r in accepted if r.id not in reached])


def locked_open(callout: Callout) -> Callout:
    callout = Callout.objects.select_for_update().select_related("unit").get(pk=callout.pk)
    if not callout.is_open:
        raise CalloutError(f"This callout is {callout.get_state_display().lower()}.")
    return callout
