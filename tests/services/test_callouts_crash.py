"""kill -9 of a prefork worker in the middle of a fan-out, then a new worker: nothing lost, nothing twice."""

import os
import signal

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from callouts.models import Delivery, RecordedMessage
from callouts.selectors import overdue_problems
from callouts.services.callouts import callout_launch
from callouts.tasks import sweep
from tests.services.conftest import make_callout_unit, wait_for

pytestmark = pytest.mark.services

PEOPLE, CHANNELS, CONCURRENCY, BATCH = 200, 3, 2, 10
SLOW = "tests.services.slow_channel.SlowRecordingChannel"
WORKER_ENV = {
    "PUSH_CHANNEL": SLOW, "SMS_CHANNEL": SLOW, "VOICE_CHANNEL": SLOW, "SLOW_CHANNEL_SECONDS": "0.01",
    # Short enough that the test need not wait long for a dead worker's leases and send deadlines to run out.
    "DELIVERY_LEASE": "4", "DELIVERY_SEND_TIMEOUT": "3", "DELIVERY_SEND_BATCH": str(BATCH),
}


def counts(deliveries) -> dict[str, int]:
    return dict(deliveries.values_list("state").annotate(n=Count("id")).order_by())


def kill_when_in_flight(worker, deliveries) -> set[int]:
    """kill -9 the worker and its pool between a quarter and three quarters into the fan-out.

    Returns the deliveries it was sending when it died: their outcome is unknown.
    """
    total = PEOPLE * CHANNELS
    in_flight = lambda: total // 4 <= deliveries.filter(state=Delivery.State.SENT).count() <= 3 * total // 4  # noqa: E731
    assert wait_for(in_flight, seconds=30, interval=0.005), f"fan-out never reached a quarter: {counts(deliveries)}"
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    return set(deliveries.filter(state=Delivery.State.SENDING).values_list("id", flat=True))


def settled(deliveries) -> bool:
    """Nothing left to send, and nothing being sent that still has time to finish."""
    return not deliveries.filter(
        Q(state=Delivery.State.PENDING) | Q(state=Delivery.State.SENDING, send_deadline__gte=timezone.now())
    ).exists()


def test_worker_killed_mid_fan_out_loses_no_delivery_and_sends_none_twice(
        transactional_db, operator, worker_factory, celery_beat):
    unit = make_callout_unit(primary=PEOPLE)
    worker = worker_factory.start(pool="prefork", concurrency=CONCURRENCY, **WORKER_ENV)
    callout = callout_launch(unit=unit, message="Armed robbery in progress, High Street", actor=operator)
    deliveries = Delivery.objects.filter(recipient__callout=callout)

    cut_off = kill_when_in_flight(worker, deliveries)
    print(f"at the kill: {counts(deliveries)}")
    worker_factory.start(pool="prefork", concurrency=CONCURRENCY, **WORKER_ENV)
    assert wait_for(lambda: settled(deliveries), seconds=60), f"unsettled 60 s after the restart: {counts(deliveries)}"
    sweep()  # one more sweep, here and now, after every deadline has passed

    print(f"after the restart: {counts(deliveries)}")
    # Each pool process has one batch in the providers' hands at a time, so at most that many were cut off
    # mid-send. They stay sending, an unknown outcome past its deadline that the watchdog reports: never sent
    # a second time.
    assert len(cut_off) <= CONCURRENCY * BATCH
    assert set(deliveries.filter(state=Delivery.State.SENDING).values_list("id", flat=True)) == cut_off
    assert deliveries.filter(state=Delivery.State.SENT).count() == PEOPLE * CHANNELS - len(cut_off)
    assert RecordedMessage.objects.filter(delivery_id__in=cut_off).count() <= len(cut_off)
    if cut_off:
        assert any("stuck sending" in problem for problem in overdue_problems())
    handed = RecordedMessage.objects.filter(delivery__in=deliveries).values("delivery").annotate(n=Count("id"))
    assert max(row["n"] for row in handed) == 1, "a delivery was handed to the channel twice"
    assert RecordedMessage.objects.filter(delivery__in=deliveries.filter(state=Delivery.State.SENT)).count() == \
        PEOPLE * CHANNELS - len(cut_off)


def test_a_channel_raising_after_the_provider_accepted_does_not_send_again(
        transactional_db, operator, worker_factory, celery_beat):
    raising = "tests.services.slow_channel.AcceptedThenRaisingChannel"
    worker_factory.start(pool="solo", SMS_CHANNEL=raising, DELIVERY_MAX_ATTEMPTS="3", DELIVERY_RETRY_BASE="1")
    callout = callout_launch(unit=make_callout_unit(primary=1, channels=("sms",)), actor=operator,
                             message="Road traffic collision, M4 junction 3")
    sms = Delivery.objects.filter(recipient__callout=callout)
    assert wait_for(lambda: sms.filter(error_code="exception").exists() or RecordedMessage.objects.filter(
        delivery__in=sms).count() > 1, seconds=15), "the send neither settled as unknown nor was repeated in 15 s"
    sweep()  # a sweep after it, here and now: an unknown outcome is not leased again

    # The outcome is unknown, as after a crash mid-send: left sending for the watchdog, never sent again.
    assert RecordedMessage.objects.filter(delivery__in=sms).count() == 1
    assert sms.get().state == Delivery.State.SENDING
