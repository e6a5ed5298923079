"""Due deliveries: leased by the beat sweep, claimed, handed to the providers and recorded, each at most once.

A delivery's ``due_at`` is its timer. The sweep leases due rows with ``select_for_update(skip_locked=True)``;
a send task claims a batch with a conditional update committed before any provider is called (healthchecks'
claim), so a second worker, or a second run of the task, finds nothing to send.
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
from django.db import connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from callouts.channels import ChannelError, channel_for
from callouts.clock import db_now
from callouts.models import Callout, Delivery, Recipient
from callouts.services.alerts import bring_forward_next_channel
from callouts.services.callouts import reassess

log = logging.getLogger(__name__)


def deliveries_lease(*, now: datetime | None = None, limit: int = 2000) -> list[int]:
    """Lease due deliveries to the workers; a lease that runs out unsent is handed out again."""
    now = now or db_now()
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
# What still_wanted reads, and the push payload's unit name, loaded with the deliveries in one query.
ADDRESSEE = ("recipient__callout__unit", "recipient__person", "person")


def deliveries_send(*, delivery_ids: list[int], until: float | None = None) -> dict[int, str]:
    """Send a worker's chunk of deliveries, each at most once: one query loads them all, then they are claimed,
    handed to the providers and marked sent a batch at a time.

    Past ``until`` (a ``time.monotonic()`` value) no further batch is started: the rest stay pending, marked
    ``LATER`` in the result for the caller to queue again, so slow providers never hold the worker for long.
    """
    deliveries = (Delivery.objects.filter(pk__in=delivery_ids, state=Delivery.State.PENDING)
                  .select_related(*ADDRESSEE).order_by("due_at", "id"))
    outcomes, ready = {}, []
    for delivery in deliveries:
        if not still_wanted(delivery):
            outcomes[delivery.pk] = cancel_unwanted(delivery)
        elif (problem := channel_problem(delivery.channel)) is not None:
            outcomes[delivery.pk] = delivery_refused(delivery=delivery, reason=problem)
        else:
            ready.append(delivery)
    for start in range(0, len(ready), settings.DELIVERY_SEND_BATCH):
        if start and until is not None and time.monotonic() > until:
            outcomes.update(dict.fromkeys((d.pk for d in ready[start:]), LATER))
            break
        outcomes.update(send_batch(ready[start:start + settings.DELIVERY_SEND_BATCH]))
    return outcomes


def delivery_send(*, delivery_id: int) -> str:
    return deliveries_send(delivery_ids=[delivery_id]).get(delivery_id, "not-claimed")


def still_wanted(delivery: Delivery) -> bool:
    """Nothing goes to a person who has been deactivated (they have left, or must not hear of operations). An
    alert is wanted only while its person has not answered and the callout still wants people; someone an
    operator added by hand is wanted until the callout ends, even once the need is met."""
    if not delivery.addressee.active:
        return False
    if delivery.kind != Delivery.Kind.ALERT:
        return True
    recipient = delivery.recipient
    state = recipient.callout.state
    return recipient.response == Recipient.Response.NONE and (
        state in (Callout.State.ACTIVE, Callout.State.EXHAUSTED)
        or (state == Callout.State.FILLED and recipient.added_by_operator))


def cancel_unwanted(delivery: Delivery) -> str:
    cancelled = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now())
    return Delivery.State.CANCELLED if cancelled else "not-claimed"


def channel_problem(kind: str) -> str | None:
    """Why no channel can take this kind of message, found before anything is claimed: one bad row then fails on
    its own and never strands the rest of its batch in ``sending``."""
    try:
        channel_for(kind)
    except Exception as error:
        log.exception("No channel for %r messages", kind)
        return f"No channel sends {kind!r} messages: {type(error).__name__}: {error}"[:500]
    return None


def delivery_refused(*, delivery: Delivery, reason: str) -> str:
    """Nothing was handed to any provider and nothing ever can be: failed for good, with the reason, and the
    person's next channel is used at once."""
    now = db_now()
    if not Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
            state=Delivery.State.FAILED, error_code="no-channel", error=reason, updated_at=now):
        return "not-claimed"
    log.error("Delivery %s failed for good: %s", delivery.pk, reason)
    failed_for_good(delivery, now)
    return Delivery.State.FAILED


def send_batch(deliveries: list[Delivery]) -> dict[int, str]:
    """Claim, hand over and record a batch; what the claim did not get is someone else's or already done."""
    return {**dict.fromkeys((d.pk for d in deliveries), "not-claimed"), **send_claimed(claim(deliveries))}


def send_claimed(claimed: list[Delivery]) -> dict[int, str]:
    """Check the claimed batch again, hand over what may still go and record each outcome."""
    ready, outcomes = recheck(claimed)
    sent = {}
    for delivery, result in hand_over(ready):
        if isinstance(result, str):
            sent[delivery.pk] = result
        elif result.unknown:
            outcomes[delivery.pk] = delivery_outcome_unknown(delivery=delivery, error=result)
        else:
            outcomes[delivery.pk] = delivery_failed(delivery=delivery, error=result)
    if sent:
        now = db_now()
        Delivery.objects.filter(pk__in=sent, state=Delivery.State.SENDING).update(
            state=Delivery.State.SENT, sent_at=now, updated_at=now,
            provider_message_id=Case(*(When(pk=pk, then=Value(message_id)) for pk, message_id in sent.items())),
        )
        outcomes.update(dict.fromkeys(sent, Delivery.State.SENT))
    return outcomes


def recheck(claimed: list[Delivery]) -> tuple[list[Delivery], dict[int, str]]:
    """Just before the hand-over, by the database's clock: a worker frozen since its claim (stopped, swapped out,
    paused in a debugger) must neither send past the send deadline nor send an alert nobody wants any more.

    Past the deadline the delivery goes back to pending, due now, for whichever worker sweeps next (nothing was
    handed over, so sending it is safe); an alert no longer wanted is cancelled. Returns what may go now.
    """
    if not claimed:
        return [], {}
    now = db_now()
    fresh = Delivery.objects.select_related(*ADDRESSEE).in_bulk([d.pk for d in claimed])
    ready, dropped = [], {}
    for delivery in claimed:
        current = fresh.get(delivery.pk)
        if current is None or current.state != Delivery.State.SENDING:
            dropped[delivery.pk] = "not-claimed"
        elif not still_wanted(current):
            dropped[delivery.pk] = settle_claimed(current, state=Delivery.State.CANCELLED, now=now)
        elif current.send_deadline <= now:
            log.warning("Delivery %s claimed %s s ago and not handed over: back to pending", delivery.pk,
                        int((now - current.send_deadline).total_seconds()) + settings.DELIVERY_SEND_TIMEOUT)
            dropped[delivery.pk] = settle_claimed(current, state=Delivery.State.PENDING, now=now)
        else:
            ready.append(delivery)
    return ready, dropped


def settle_claimed(delivery: Delivery, *, state: str, now: datetime) -> str:
    """A claimed delivery that was never handed over: cancelled, or pending again (the attempt did not happen)."""
    changes = {"state": state, "updated_at": now}
    if state == Delivery.State.PENDING:
        changes.update(due_at=now, lease_until=None, attempts=F("attempts") - 1)
    moved = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(**changes)
    return state if moved else "not-claimed"


def claim(deliveries: list[Delivery]) -> list[Delivery]:
    """Mark the batch sending, with a deadline, committed before any provider is called: a second worker, or
    a second run of the task, finds nothing to claim (healthchecks' conditional-update claim).

    The rows were loaded with their recipient and callout. Whatever makes an alert unwanted after that (an
    answer, the need met, a cancel) cancels its pending deliveries in the same transaction, so the claim's
    ``state`` condition sees it without joining the recipient and callout again.
    """
    now = db_now()
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
    Every channel here was built before the claim (``channel_problem``).
    """
    channels = {d.pk: channel_for(d.channel) for d in deliveries}
    inline = [d for d in deliveries if not getattr(channels[d.pk], "blocking_io", True)]
    parallel = [d for d in deliveries if d not in inline]
    results = []
    for channel, batch in itertools.groupby(inline, key=lambda d: channels[d.pk]):
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
    now = db_now()
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
        error_code=error.code, error=str(error), updated_at=now
    )
    log.error("Delivery %s outcome unknown, not sending again: %s", delivery.pk, error)
    bring_forward_next_channel(delivery, now)
    return Delivery.State.SENDING


def delivery_failed(*, delivery: Delivery, error: ChannelError) -> str:
    now = db_now()
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
    now = db_now()
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
