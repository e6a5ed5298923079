"""Redis, the broker, restarted while an escalation deadline passes: the escalation still fires."""

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import redis
from auditlog.models import LogEntry
from django.utils import timezone

from callouts.models import Callout, Delivery, RecordedMessage
from callouts.services.callouts import callout_launch
from tests.services.conftest import make_callout_unit, wait_for

pytestmark = pytest.mark.services

WAIT_SECONDS = 3
RECOVERY_SECONDS = 30


def redis_address() -> tuple[str, int]:
    url = urlsplit(os.environ["REDIS_URL"])
    return url.hostname or "127.0.0.1", url.port or 6379


def redis_answers() -> bool:
    host, port = redis_address()
    try:
        return redis.Redis(host=host, port=port, socket_timeout=1, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        return False


def start_redis() -> None:
    """The machine's own command (see the machine page), so Redis comes back as other tests and CI expect it."""
    host, port = redis_address()
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(port),
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True, capture_output=True)
    assert wait_for(redis_answers, seconds=30), f"Redis did not answer on {host}:{port} 30 s after starting it"


@contextlib.contextmanager
def redis_stopped():
    """Redis is down inside the block (nothing kept: it saves nothing here); it is back, answering, after."""
    host, port = redis_address()
    if host not in ("127.0.0.1", "localhost", "::1") or not shutil.which("redis-server"):
        pytest.skip(f"restarting Redis needs it local with redis-server installed, not at {host}:{port}")
    subprocess.run(["redis-cli", "-h", host, "-p", str(port), "shutdown", "nosave"], capture_output=True)
    try:
        assert wait_for(lambda: not redis_answers(), seconds=10), "Redis still answers after shutdown"
        yield
    finally:
        if not redis_answers():
            start_redis()


def escalated(callout) -> bool:
    return LogEntry.objects.filter(object_pk=str(callout.pk), additional_data__event="callout_escalated").exists()


def test_escalation_fires_when_redis_was_down_at_its_deadline(transactional_db, operator, worker_factory, celery_beat):
    worker_factory.start(pool="solo")
    unit = make_callout_unit(primary=2, secondary=2)
    callout = callout_launch(unit=unit, message="Suspect vehicle, A40 westbound", actor=operator)
    sent = RecordedMessage.objects.filter(delivery__recipient__callout=callout)
    assert wait_for(lambda: sent.count() == 2 * 3), "the primary alerts were not sent within 20 s"
    # Waits are whole minutes in the policy model; the frozen copy on the callout takes seconds.
    deadline = timezone.now() + timedelta(seconds=WAIT_SECONDS)
    frozen = callout.frozen_policy
    policy = replace(frozen, waits={**frozen.waits, 1: WAIT_SECONDS}).to_json()
    Callout.objects.filter(pk=callout.pk).update(policy=policy, escalate_at=deadline)

    with redis_stopped():
        assert not escalated(callout)
        assert wait_for(lambda: timezone.now() > deadline + timedelta(seconds=1), seconds=WAIT_SECONDS + 2)
    back = time.monotonic()

    secondary = sent.filter(delivery__recipient__tier_position=2)
    assert wait_for(lambda: secondary.count() == 2 * 3, seconds=RECOVERY_SECONDS), \
        f"secondary was not alerted within {RECOVERY_SECONDS} s of Redis coming back"
    print(f"secondary alerted {time.monotonic() - back:.1f} s after Redis answered again")
    assert escalated(callout)
    callout.refresh_from_db()
    assert callout.current_tier == 2
    assert not Delivery.objects.filter(recipient__callout=callout, state__in=["pending", "sending"]).exists()
