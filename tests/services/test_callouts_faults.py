"""Faults found by fault injection on PostgreSQL + Redis: rows another connection holds, workers whose clocks are
off, and a transaction frozen while it holds a callout."""

import re
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, transaction

from callouts.clock import db_now
from callouts.live import console_problems
from callouts.models import Callout, Delivery, Heartbeat, Recipient
from callouts.services.callouts import callout_launch, callout_respond, escalations_due
from callouts.services.deliveries import deliveries_lease
from config.celery import app
from tests.services.conftest import make_callout_unit, wait_for

pytestmark = pytest.mark.services


def launch(unit, operator, message="Firearms incident, Mill Lane") -> Callout:
    return callout_launch(unit=unit, message=message, actor=operator)


class RowHolder:
    """Another connection holding row locks in an open transaction, as a busy or frozen worker would."""

    def __init__(self, *rows):
        self.rows, self.locked, self.release = rows, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.hold)

    def hold(self) -> None:
        try:
            with transaction.atomic():
                for row in self.rows:
                    type(row).objects.select_for_update().get(pk=row.pk)
                self.locked.set()
                self.release.wait(30)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(10), "the other connection did not take its locks"
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)


@pytest.fixture
def lock_timeout():
    """A sweep that waits for a lock fails after a second rather than hanging the test."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '1s'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = 0")


def test_the_sweep_passes_over_rows_another_connection_holds_and_handles_the_rest_within_a_second(
        transactional_db, operator, worker_factory, lock_timeout):
    # No worker runs (worker_factory pauses the session's): this test looks at the sweep's own claims.
    unit = make_callout_unit(primary=3, secondary=3)
    held, free = launch(unit, operator, "Held"), launch(unit, operator, "Free")
    Callout.objects.update(escalate_at=db_now())  # both waits have run out
    held_delivery, *other_deliveries = Delivery.objects.filter(state=Delivery.State.PENDING, due_at__lte=db_now())

    with RowHolder(held, held_delivery):
        started = time.monotonic()
        escalated = escalations_due()
        leased = deliveries_lease()
        took = time.monotonic() - started
    app.control.purge()  # the launches' dispatch tasks, which no worker took

    assert took < 1.0
    assert escalated == 1
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.current_tier, free.current_tier) == (1, 2)
    assert held_delivery.pk not in leased
    assert {d.pk for d in other_deliveries} <= set(leased)


@pytest.mark.parametrize("clock_offset", [-30, 30], ids=["worker 30 s behind", "worker 30 s ahead"])
def test_a_worker_whose_clock_is_off_by_30_s_sends_and_escalates_on_the_databases_time(
        transactional_db, operator, worker_factory, celery_beat, clock_offset):
    worker_factory.start(pool="solo", clock_offset=clock_offset)
    unit = make_callout_unit(primary=3, secondary=3)
    callout = launch(unit, operator)
    primary = Delivery.objects.filter(recipient__callout=callout, recipient__tier_position=1)
    assert wait_for(lambda: primary.filter(state=Delivery.State.SENT).count() == 9, seconds=10), \
        f"the primary alerts were not sent within 10 s: {list(primary.values_list('state', flat=True))}"
    assert max(primary.values_list("sent_at", flat=True)) - callout.launched_at < timedelta(seconds=3)

    deadline = db_now() + timedelta(seconds=2)
    Callout.objects.filter(pk=callout.pk).update(escalate_at=deadline)
    secondary = Recipient.objects.filter(callout=callout, tier_position=2, notified_at__isnull=False)
    assert wait_for(secondary.exists, seconds=10), "the secondary list was not alerted within 8 s of the deadline"
    assert secondary.first().notified_at - deadline < timedelta(seconds=2.5)

    # The banner names the host, and how far off it is (near enough: the reading includes a query's round trip).
    clock = Heartbeat.objects.get(name=f"clock@{socket.gethostname()}")
    assert clock.clock_skew == pytest.approx(clock_offset, abs=2)
    direction = "behind" if clock_offset < 0 else "ahead of"
    assert any(re.fullmatch(rf"The clock of worker host {re.escape(socket.gethostname())} is \d+ s {direction} "
                            r"the database's: fix its time \(NTP\)\.", problem) for problem in console_problems())


def test_a_transaction_left_open_cannot_hold_a_callout_from_the_people_answering_it(
        transactional_db, operator):
    with connection.cursor() as cursor:
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "15s"  # DATABASE_IDLE_TRANSACTION_SECONDS' default, on every connection
    unit = make_callout_unit(primary=2)
    callout = launch(unit, operator)
    recipient = callout.recipients.first()

    frozen = connections.create_connection("default")
    frozen.settings_dict = {**frozen.settings_dict,
                            "OPTIONS": {"options": "-c idle_in_transaction_session_timeout=1000"}}
    with frozen.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM callouts_callout WHERE id = %s FOR UPDATE", [callout.pk])
    # The process that holds the row stops here (a worker stopped mid-sweep); PostgreSQL ends its session.
    started = time.monotonic()
    callout_respond(recipient=recipient, response="accept", channel="sms")
    assert time.monotonic() - started < 5

    recipient.refresh_from_db()
    assert recipient.response == "accept"
    with pytest.raises(DatabaseError, match="idle-in-transaction timeout"), frozen.cursor() as cursor:
        cursor.execute("SELECT 1")
    frozen.close()
