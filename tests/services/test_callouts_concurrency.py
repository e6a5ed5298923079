"""Accepts racing each other and the escalation timer on PostgreSQL, each in its own connection."""

import functools
import time

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from callouts.idempotency import IdempotencyKey
from callouts.models import Callout, Delivery, EscalationPolicy, Heartbeat, RecordedMessage, ResponseRecord
from callouts.services.callouts import callout_launch, callout_launch_once, callout_respond, escalations_due
from callouts.tasks import heartbeat
from tests.services.conftest import in_threads, make_callout_unit, paused, wait_for

pytestmark = pytest.mark.services

PRIMARY, SECONDARY, ACCEPTS, QUORUM = 10, 5, 8, 2
# Seconds the timer starts before the accepts (negative: after). At 0 the accepts nearly always hold the row when
# the timer looks, so it skips; a head start lets it win, so both legitimate outcomes are seen.
TIMER_HEAD_STARTS = (0.0, 0.02, 0.005, -0.005)


def events(callout, name: str):
    return LogEntry.objects.filter(object_pk=str(callout.pk), additional_data__event=name)


def escalate_while_due(callout_id: int) -> int:
    """What the sweep does every second: escalate until this callout is no longer due."""
    escalated = 0
    while Callout.objects.filter(pk=callout_id, state=Callout.State.ACTIVE, escalate_at__lte=timezone.now()).exists():
        escalated += escalations_due()
    return escalated


def accept(recipient):
    return callout_respond(recipient=recipient, response="accept", channel="sms", eta_minutes=15)


def after(seconds: float, work):
    def delayed():
        time.sleep(max(seconds, 0))
        return work()
    return delayed


def launched_and_primary_paged(unit, operator) -> Callout:
    callout = callout_launch(unit=unit, message="Hostage situation, Bank Street", actor=operator)
    primary = Delivery.objects.filter(recipient__callout=callout, recipient__tier_position=1)
    assert wait_for(lambda: primary.filter(state=Delivery.State.SENT).count() == PRIMARY * 3), \
        "the worker did not send the primary alerts within 20 s"
    return callout


def drain() -> None:
    """Wait until the (solo) worker has run everything queued so far: a heartbeat queued last has run."""
    Heartbeat.objects.all().delete()
    heartbeat.delay()
    assert wait_for(Heartbeat.objects.exists), "the worker did not run a task queued last within 20 s"


def race(callout, accepters, head_start: float, worker) -> None:
    """The timer and the accepts at once, while no worker hands anything to a channel."""
    timer = after(-head_start, functools.partial(escalate_while_due, callout.pk))
    accepts = [after(head_start, functools.partial(accept, r)) for r in accepters]
    with paused(worker.node_name):
        results = in_threads(timer, *accepts)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors


def assert_filled_once_by_exactly_the_need(callout, accepters) -> None:
    callout.refresh_from_db()
    assert (callout.state, callout.escalate_at) == (Callout.State.FILLED, None)
    assert callout.recipients.filter(response="accept").count() == ACCEPTS
    assert ResponseRecord.objects.filter(recipient__callout=callout, response="accept").count() == ACCEPTS
    filled = events(callout, "callout_filled")
    assert filled.count() == 1
    # Filled by the second accept to commit, never a later one.
    assert len(filled.get().additional_data["accepted"]) == QUORUM
    assert set(filled.get().additional_data["accepted"]) <= {r.person_id for r in accepters}


def outcome(callout) -> str:
    """Which of the two legitimate outcomes happened; anything else fails."""
    secondary = Delivery.objects.filter(recipient__callout=callout, recipient__tier_position=2)
    if events(callout, "callout_escalated").exists():
        # The timer had the row before the second accept: secondary was alerted, and the fill then cancelled
        # every one of those alerts before a worker could hand it to a channel.
        assert events(callout, "callout_escalated").count() == 1
        assert callout.current_tier == 2
        assert not callout.recipients.filter(tier_position=2, notified_at__isnull=True).exists()
        assert secondary.count() == SECONDARY * 3
        assert set(secondary.values_list("state", flat=True)) == {Delivery.State.CANCELLED}
        return "escalated, then filled"
    # The fill came first, or the row was locked each time the timer looked: secondary never hears of it.
    assert callout.current_tier == 1
    assert not callout.recipients.filter(tier_position=2, notified_at__isnull=False).exists()
    assert not secondary.exists()
    return "filled first"


def test_concurrent_accepts_at_the_deadline_fill_once_and_page_no_later_list_after_the_fill(
        transactional_db, operator, worker_factory):
    worker = worker_factory.start(pool="solo")
    unit = make_callout_unit(primary=PRIMARY, secondary=SECONDARY)
    EscalationPolicy.objects.create(unit=unit, quorum=QUORUM)
    outcomes = {}
    for head_start in TIMER_HEAD_STARTS:
        callout = launched_and_primary_paged(unit, operator)
        accepters = list(callout.recipients.filter(tier_position=1)[:ACCEPTS])
        Callout.objects.filter(pk=callout.pk).update(escalate_at=timezone.now())  # the wait has just run out

        race(callout, accepters, head_start, worker)

        assert_filled_once_by_exactly_the_need(callout, accepters)
        outcomes[head_start] = outcome(callout)
        # The worker now runs whatever the race queued, and a sweep after it: nothing more reaches a channel.
        drain()
        escalations_due()
        drain()
        handed = RecordedMessage.objects.filter(delivery__recipient__callout=callout)
        assert handed.count() == PRIMARY * 3
        assert not handed.filter(delivery__recipient__tier_position=2).exists()
        assert not Delivery.objects.filter(recipient__callout=callout, state__in=["pending", "sending"]).exists()
    print(f"timer head start (s) → outcome: {outcomes}")


# Launches with one idempotency key arriving together: a dispatch system retrying a launch whose answer it never
# got, or two clicks. Staggered over the first launch's own duration, so that some twins look for the key before
# the first commits and reach their own insert after it, the moment that once turned a retry into a 400.
TWINS_STAGGER = tuple(n * 0.004 for n in range(8))
KEYED_ROUNDS = 4


def test_launches_with_the_same_key_at_once_all_get_one_callout_and_the_unit_is_paged_once(
        transactional_db, operator, worker_factory):
    worker_factory.start(pool="solo")
    unit = make_callout_unit(primary=4)
    for round_ in range(KEYED_ROUNDS):
        key = IdempotencyKey(origin=Callout.KeyOrigin.API, value=f"cad-{round_}")
        launch = functools.partial(callout_launch_once, unit=unit, message="Armed suspect, Bank Street",
                                   actor=operator, incident_ref=f"CAD-{round_}", key=key)

        results = in_threads(*(after(delay, launch) for delay in TWINS_STAGGER))

        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors
        assert len({callout.pk for callout, _ in results}) == 1
        assert [created for _, created in results].count(True) == 1
    assert Callout.objects.count() == KEYED_ROUNDS
    handed = RecordedMessage.objects.filter(delivery__recipient__callout__unit=unit)
    assert wait_for(lambda: handed.count() == KEYED_ROUNDS * 4 * 3), f"{handed.count()} alerts handed over"
    drain()
    assert handed.count() == KEYED_ROUNDS * 4 * 3
