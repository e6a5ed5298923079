"""An escalation deadline that passes while a large fan-out is being sent is not queued behind it."""

from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone

from callouts.models import Callout, Delivery
from callouts.services.callouts import callout_launch
from tests.services.conftest import make_callout_unit, wait_for

pytestmark = pytest.mark.services

SLOW = "tests.services.slow_channel.SlowRecordingChannel"
# One process sending 300 messages, ten at a time at 100 ms each: seconds of sends queued ahead of any sweep.
WORKER_ENV = {"PUSH_CHANNEL": SLOW, "SMS_CHANNEL": SLOW, "VOICE_CHANNEL": SLOW, "SLOW_CHANNEL_SECONDS": "0.1",
              "DELIVERY_SEND_BATCH": "10"}


def test_escalation_due_during_a_large_fan_out_is_not_queued_behind_it(
        transactional_db, operator, worker_factory, celery_beat):
    worker_factory.start(pool="solo", **WORKER_ENV)
    small = callout_launch(unit=make_callout_unit(primary=1, secondary=1, channels=("push",), code="small"),
                           message="Concern for welfare, Canal Walk", actor=operator)
    assert wait_for(lambda: Delivery.objects.filter(recipient__callout=small, state="sent").exists())
    big = callout_launch(unit=make_callout_unit(primary=100, code="big"), message="Major incident", actor=operator)
    deadline = timezone.now() + timedelta(seconds=1)
    Callout.objects.filter(pk=small.pk).update(escalate_at=deadline)

    secondary = small.recipients.filter(tier_position=2, notified_at__isnull=False)
    assert wait_for(secondary.exists, seconds=30), "the escalation did not fire within 30 s"
    big_deliveries = Delivery.objects.filter(recipient__callout=big)
    assert wait_for(lambda: not big_deliveries.filter(state__in=["pending", "sending"]).exists(), seconds=60)

    fired = secondary.get().notified_at
    print(f"fired {(fired - deadline).total_seconds():.2f} s after the deadline; the fan-out ended "
          f"{(big_deliveries.aggregate(last=Max('sent_at'))['last'] - fired).total_seconds():.2f} s after that")
    # The next sweep, one second at most, after the send task in hand (which stops after half a second and
    # queues the rest behind the sweep); queued behind the fan-out it would be as late as the seconds of sends
    # still ahead of it.
    assert fired - deadline < timedelta(seconds=2.5)
    assert fired < big_deliveries.aggregate(last=Max("sent_at"))["last"], "the fan-out was over before the deadline"
