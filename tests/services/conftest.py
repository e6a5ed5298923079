"""A real Celery worker against the pytest-django PostgreSQL database and Redis, for the services tests.

Besides the session's worker, tests can start their own worker processes (``worker_factory``: another pool,
another channel class, shorter leases) and one beat (``celery_beat``). While a test's own worker runs, the
session worker is paused (``paused(SESSION_WORKER_NAME)``) so that only the worker under test takes tasks.

The session worker outlives the flush that ends each transactional test, and that flush recreates the content
types under new ids, which the worker has cached: an audited row it writes after the first such test fails its
foreign key. A test whose worker writes audited rows (callouts, recipients, recorded messages) starts its own.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app
from units.models import ContactMethod, FixedRule, Membership, Person, Unit
from units.services import unit_ensure_tiers

WORKER_START_SECONDS = 30
QUEUES = ("callouts", "celery")
# Celery expands %h in -n to this, so control commands can be addressed to the session worker.
SESSION_WORKER_NAME = f"services-tests-{os.getpid()}@{socket.gethostname()}"


@pytest.fixture(scope="session", autouse=True)
def services_configured():
    """Fail loudly rather than let these tests pass against SQLite or an in-process eager Celery."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.fail(f"The services tests need {' and '.join(missing)} (PostgreSQL and Redis); "
                    "run them with ./muster test, or deselect them with -m 'not services'.", pytrace=False)
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail(f"DATABASE_URL must point at PostgreSQL, not {settings.DATABASES['default']['ENGINE']}.",
                    pytrace=False)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("Unset CELERY_TASK_ALWAYS_EAGER: the services tests need tasks to go through Redis.",
                    pytrace=False)


def worker_database_url(test_db_name: str) -> str:
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{test_db_name}").geturl()


def process_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker or beat: the test database, plus whatever the test changes."""
    return {**os.environ, "DATABASE_URL": worker_database_url(connection.settings_dict["NAME"]), **overrides}


def start_celery(args: list[str], log_path: Path, env: dict[str, str], clock_offset: float = 0) -> subprocess.Popen:
    """A Celery process leading its own process group, so that a test can kill it and its pool at once.

    With ``clock_offset``, the process's clock runs that many seconds ahead (negative: behind), as on a host
    whose clock is off (tests/services/skewed_clock.py)."""
    command = ["-m", "celery"] if not clock_offset else ["-m", "tests.services.skewed_clock", str(clock_offset)]
    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, *command, "-A", "config", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=settings.BASE_DIR, start_new_session=True)


def worker_args(name: str, *, pool: str = "solo", concurrency: int = 1) -> list[str]:
    args = ["worker", "--pool", pool, "-l", "info", "-Q", ",".join(QUEUES), "-n", name,
            "--without-gossip", "--without-mingle"]
    return args if pool == "solo" else [*args, "--concurrency", str(concurrency)]


def stop(process: subprocess.Popen) -> None:
    """Warm shutdown; whatever is left of the process group after 10 s is killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, tmp_path_factory):
    """A worker process whose DATABASE_URL is the test database, so it sees what transactional tests commit."""
    app.control.purge()  # a message left by an interrupted run would otherwise reach this worker first
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    process = start_celery(worker_args(SESSION_WORKER_NAME), log_path, process_env())
    try:
        wait_until_ready(process, log_path)
        yield process
    finally:
        stop(process)


def wait_until_ready(process: subprocess.Popen, log_path, marker: str = " ready.") -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while marker not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"The Celery process did not start (exit code {process.poll()}):\n{log_path.read_text()}",
                        pytrace=False)
        time.sleep(0.1)


def wait_for(condition, seconds: float = 20.0, interval: float = 0.1) -> bool:
    """Poll another process's effect until it shows or the deadline passes."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@contextlib.contextmanager
def paused(node_name: str):
    """The worker takes no new task from the callout queues inside the block; it resumes after."""
    for queue in QUEUES:
        control("cancel_consumer", queue, node_name)
    try:
        yield
    finally:
        for queue in QUEUES:
            control("add_consumer", queue, node_name)


def control(command: str, queue: str, node_name: str, seconds: float = 30) -> None:
    """A remote control command, repeated until the worker answers: after a Redis restart both this process
    and the worker need a moment to reconnect, and a broadcast sent meanwhile reaches nobody."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if getattr(app.control, command)(queue, destination=[node_name], reply=True, timeout=2):
                return
        except (OperationalError, redis.ConnectionError):
            pass  # a connection from before a Redis restart: the next attempt opens a new one
        if time.monotonic() > deadline:
            pytest.fail(f"worker {node_name} did not answer {command}({queue!r}) within {seconds} s", pytrace=False)
        time.sleep(0.5)


class WorkerFactory:
    """Starts workers for one test, each with its own environment; all are stopped when the test ends."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, *, pool: str = "prefork", concurrency: int = 2, clock_offset: float = 0,
              **env: str) -> subprocess.Popen:
        number = len(self.started) + 1
        log_path = self.log_dir / f"worker-{number}.log"
        name = f"services-test-worker-{os.getpid()}-{number}@{socket.gethostname()}"
        process = start_celery(worker_args(name, pool=pool, concurrency=concurrency), log_path, process_env(**env),
                               clock_offset=clock_offset)
        process.log_path, process.node_name = log_path, name
        self.started.append(process)
        wait_until_ready(process, log_path)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            stop(process)


@pytest.fixture
def worker_factory(celery_worker, tmp_path):
    """Workers of the test's own; the session worker takes nothing while they run."""
    factory = WorkerFactory(tmp_path)
    with paused(SESSION_WORKER_NAME):
        try:
            yield factory
        finally:
            factory.stop_all()


@pytest.fixture
def celery_beat(tmp_path):
    """Exactly one beat, sending the real schedule (the sweep every second), with a schedule file of its own."""
    log_path = tmp_path / "beat.log"
    # Beat logs each sweep it sends at DEBUG (config/log_filters.py): that line says it is sending.
    process = start_celery(["beat", "-l", "debug", "-s", str(tmp_path / "beat-schedule")], log_path,
                           process_env(LOG_LEVEL="DEBUG"))
    try:
        wait_until_ready(process, log_path, marker="Sending due task sweep")
        yield process
    finally:
        stop(process)


def in_threads(*targets, seconds: float = 30.0) -> list:
    """Run each callable in its own thread with its own database connection, all released at one instant.

    Returns what each returned, or the exception it raised.
    """
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(index: int, target) -> None:
        try:
            barrier.wait(timeout=seconds)
            results[index] = target()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish in time"
    return results


CHANNELS = (ContactMethod.Kind.PUSH, ContactMethod.Kind.SMS, ContactMethod.Kind.VOICE)


def make_callout_unit(*, primary: int, secondary: int = 0, channels=CHANNELS, code: str = "tsu") -> Unit:
    """A unit whose members are on primary and team leaders on secondary, each with a contact per channel.

    Built with bulk inserts so that hundreds of people take a fraction of a second.
    """
    now = timezone.now()
    unit = Unit.objects.create(name=f"Unit {code}", code=code, timezone="Europe/London")
    first, second = unit_ensure_tiers(unit=unit)[:2]
    roles = [Membership.Role.MEMBER] * primary + [Membership.Role.TEAM_LEADER] * secondary
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{code}-{n}", password="!") for n in range(len(roles))
    )
    people = Person.objects.bulk_create(
        Person(user=user, full_name=f"Officer {code} {n:04d}", badge_number=f"{code}-{n:05d}")
        for n, user in enumerate(users)
    )
    Membership.objects.bulk_create(Membership(unit=unit, person=p, role=r) for p, r in zip(people, roles, strict=True))
    ContactMethod.objects.bulk_create(
        ContactMethod(person=person, kind=kind, address=address_for(kind, n), verified_at=now)
        for n, person in enumerate(people) for kind in channels
    )
    FixedRule.objects.create(tier=first, role=Membership.Role.MEMBER)
    if secondary:
        FixedRule.objects.create(tier=second, role=Membership.Role.TEAM_LEADER)
    return unit


def address_for(kind: str, n: int) -> str:
    if kind in ContactMethod.PHONE_KINDS:
        return f"+447700{n:06d}"
    return f"officer{n}@example.org" if kind == ContactMethod.Kind.EMAIL else f"device-{n}"


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", password="x" * 12)
