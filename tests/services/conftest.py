"""A real Celery worker against the pytest-django PostgreSQL database and Redis, for the services tests."""

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app

WORKER_START_SECONDS = 30


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


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, tmp_path_factory):
    """A worker process whose DATABASE_URL is the test database, so it sees what transactional tests commit."""
    app.control.purge()  # a message left by an interrupted run would otherwise reach this worker first
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {**os.environ, "DATABASE_URL": worker_database_url(connection.settings_dict["NAME"])}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "info",
               "-Q", "callouts,celery", "-n", f"services-tests-{os.getpid()}@%h",
               "--without-gossip", "--without-mingle"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)
    try:
        wait_until_ready(process, log_path)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while " ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"The Celery worker did not start (exit code {process.poll()}):\n{log_path.read_text()}",
                        pytrace=False)
        time.sleep(0.1)
