"""The database's clock: "now" for every timer, lease, deadline and lateness.

Web servers, workers and beat may run on several hosts, each with its own clock. A worker whose clock is 30 s
behind would send everything 30 s late and report it on time; one 30 s ahead would act early. So every process
asks the one clock they share: PostgreSQL's ``clock_timestamp()`` (the time now, not the transaction's start).
SQLite is a file on this host, read by processes on this host, so its clock is this host's; that is also the
clock the tests control with time-machine.
"""

from datetime import datetime

from django.db import connection
from django.utils import timezone


def db_now() -> datetime:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


def clock_skew_seconds(database_now: datetime) -> float:
    """How far this process's clock is ahead of the database's (negative: behind), near enough."""
    return (timezone.now() - database_now).total_seconds()
