"""Are the timers running, and does every worker's clock agree with the database's?

Beat and a worker prove they are alive with a heartbeat row; each sweep stamps a row of its own, so a worker
whose sweeps are lost (or never run) shows even while heartbeats look healthy. Times are the database's; each
row also keeps how far the writing worker's own clock was from it, which is how a skewed host is noticed.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

from django.conf import settings

from callouts.clock import clock_skew_seconds, db_now
from callouts.models import Heartbeat

WORKER = "worker"
# Beat sends a heartbeat every 15 s; four missed in a row means timers have stopped.
HEARTBEAT_STALE = timedelta(seconds=60)
# The sweep runs every second; thirty seconds without one means escalations and sends have stopped.
SWEEP_STALE = timedelta(seconds=30)
# A worker that has not reported its clock for this long has probably gone; its last reading is not news.
CLOCK_REPORT_WINDOW = timedelta(minutes=5)
TIMERS_DOWN = "Timers are not running: alerts will not escalate. Phone round and call IT."


def clock_row_name() -> str:
    return f"clock@{socket.gethostname()}"[:100]


def heartbeat_record() -> None:
    """A worker ran the heartbeat beat sent: both are alive."""
    now = db_now()
    Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": now, "clock_skew": clock_skew_seconds(now)})
    clock_record(now)


def clock_record(now: datetime) -> None:
    """How far this host's clock is from the database's, for the banner (see ``clock_problems``)."""
    Heartbeat.objects.update_or_create(name=clock_row_name(),
                                       defaults={"beat_at": now, "clock_skew": clock_skew_seconds(now)})


def sweep_start(name: str, *, gap: timedelta, now: datetime) -> bool:
    """Whether a sweep may run now: no other sweep of this name started less than ``gap`` before (by the
    database's clock).

    This is the sweep's expiry, relative to the sweep before it: after a stall the sweeps queued meanwhile
    collapse into one every ``gap``, whatever the clocks of beat and the workers say. (Celery's ``expires`` is an
    instant on beat's clock, checked against the worker's: a worker 30 s ahead discarded every sweep.)
    """
    skew = clock_skew_seconds(now)
    started = bool(Heartbeat.objects.filter(name=name, beat_at__lte=now - gap).update(beat_at=now, clock_skew=skew)
                   or Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": now, "clock_skew": skew})[1])
    if started:
        clock_record(now)
    return started


def timer_problems(now: datetime) -> list[str]:
    beats = dict(Heartbeat.objects.filter(name__in=[WORKER, "sweep"]).values_list("name", "beat_at"))
    worker, sweep = beats.get(WORKER), beats.get("sweep")
    if worker is None or worker < now - HEARTBEAT_STALE or sweep is None or sweep < now - SWEEP_STALE:
        return [TIMERS_DOWN]
    return []


def clock_problems(now: datetime) -> list[str]:
    """Hosts whose clock is off the database's by more than MAX_CLOCK_SKEW_SECONDS. Timers still fire on time
    (they follow the database), but logs, tokens and TLS on that host go wrong: it needs its clock fixed."""
    limit = settings.MAX_CLOCK_SKEW_SECONDS
    skewed = (Heartbeat.objects.filter(name__startswith="clock@", beat_at__gte=now - CLOCK_REPORT_WINDOW)
              .exclude(clock_skew__range=(-limit, limit)).order_by("name"))
    return [
        f"The clock of worker host {row.name.removeprefix('clock@')} is {abs(row.clock_skew):.0f} s "
        f"{'ahead of' if row.clock_skew > 0 else 'behind'} the database's: fix its time (NTP)."
        for row in skewed
    ]
