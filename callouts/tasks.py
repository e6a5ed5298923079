"""Thin Celery shells: each task takes ids, calls a service, and is safe to run twice."""

import logging
import time

from celery import shared_task
from django.utils import timezone

log = logging.getLogger(__name__)

# Deliveries per send task. Each task costs tens of milliseconds of Celery and connection overhead on this
# hardware, so 25 made that overhead a third of a fan-out's CPU (docs/benchmarks.md). A task that has sent
# for SEND_TASK_SECONDS queues the rest again, so slow providers never hold the sweep back for long.
SEND_CHUNK = 100
SEND_TASK_SECONDS = 0.5
# Redis hands a worker priority 0, the default, before anything else: the sweep, and with it every escalation,
# never waits behind the sends of a large fan-out (measured: 8 s late behind 1,000 people, see docs/benchmarks.md).
# Sends stay in order among themselves. A broker without priorities ignores this.
SEND_PRIORITY = 6


@shared_task(ignore_result=True)
def heartbeat() -> None:
    from callouts.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})


@shared_task(ignore_result=True)
def sweep() -> None:
    from callouts.services.callouts import escalations_due

    escalations_due()
    dispatch()


@shared_task(ignore_result=True)
def dispatch() -> None:
    from callouts.services.deliveries import deliveries_lease

    ids = deliveries_lease()
    for start in range(0, len(ids), SEND_CHUNK):
        send_deliveries.apply_async((ids[start:start + SEND_CHUNK],), priority=SEND_PRIORITY)


@shared_task(ignore_result=True)
def send_deliveries(delivery_ids: list[int]) -> None:
    from callouts.services.deliveries import LATER, deliveries_send

    outcomes = deliveries_send(delivery_ids=delivery_ids, until=time.monotonic() + SEND_TASK_SECONDS)
    if later := [pk for pk, outcome in outcomes.items() if outcome == LATER]:
        # Behind the sweep again: slow providers must not keep an escalation waiting on this worker.
        send_deliveries.apply_async((later,), priority=SEND_PRIORITY)


@shared_task(ignore_result=True)
def watchdog() -> None:
    from callouts.selectors import overdue_problems

    for problem in overdue_problems():
        log.error("Callout watchdog: %s", problem)
