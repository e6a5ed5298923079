"""Thin Celery shells: each task takes ids, calls a service, and is safe to run twice."""

import logging
import time
from datetime import timedelta

from celery import shared_task

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
# Beat sends a sweep every second; one that starts less than this after the last is dropped (see
# callouts.health.sweep_start), so a backlog queued while workers were away collapses.
SWEEP_GAP = timedelta(seconds=0.5)


@shared_task(ignore_result=True)
def heartbeat() -> None:
    from callouts.health import heartbeat_record

    heartbeat_record()


@shared_task(ignore_result=True)
def sweep(scheduled: bool = False) -> None:
    """Escalate what is due, lease due deliveries. Beat's sweeps (``scheduled``) skip when another just ran."""
    from callouts.clock import db_now
    from callouts.health import sweep_start
    from callouts.services.callouts import escalations_due

    now = db_now()
    if scheduled and not sweep_start("sweep", gap=SWEEP_GAP, now=now):
        log.debug("Sweep skipped: another started less than %s s ago", SWEEP_GAP.total_seconds())
        return
    escalations_due(now=now)
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
    from callouts.live import console_problems

    for problem in console_problems():
        log.error("Callout watchdog: %s", problem)
