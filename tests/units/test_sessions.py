"""The back office session: it ends after 30 idle minutes, and 12 hours after the login whatever the activity."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import login_verified

START = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def chief(db):
    return get_user_model().objects.create_superuser("chief", password="correct horse battery")


def test_a_session_ends_twelve_hours_after_login_however_active(clock, chief, settings):
    settings.SESSION_MAX_AGE_SECONDS = 12 * 3600
    client = login_verified(Client(REMOTE_ADDR="192.0.2.40"), chief)
    for _ in range(12 * 3 - 1):  # a click every 20 minutes
        clock.shift(timedelta(minutes=20))
        assert client.get("/admin/").status_code == 200
    clock.shift(timedelta(minutes=20, seconds=-1))
    assert client.get("/admin/").status_code == 200
    clock.shift(timedelta(seconds=2))

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    ended = LogEntry.objects.get(additional_data__event="session_ended")
    assert (ended.object_pk, ended.additional_data["reason"], ended.remote_addr) == (
        str(chief.pk), "max_age", "192.0.2.40")
    assert client.get("/admin/").status_code == 302  # and stays ended


def test_the_absolute_lifetime_is_a_setting(clock, chief, settings):
    settings.SESSION_MAX_AGE_SECONDS = 3600
    client = login_verified(Client(), chief)
    for minutes in (20, 20, 19):
        clock.shift(timedelta(minutes=minutes))
        assert client.get("/admin/").status_code == 200
    clock.shift(timedelta(minutes=2))

    assert client.get("/admin/").status_code == 302


def test_a_session_ends_after_thirty_minutes_without_activity(clock, chief):
    client = login_verified(Client(), chief)
    clock.shift(timedelta(minutes=29))
    assert client.get("/admin/").status_code == 200
    clock.shift(timedelta(minutes=29))
    assert client.get("/admin/").status_code == 200
    clock.shift(timedelta(minutes=30, seconds=1))

    assert client.get("/admin/").status_code == 302


def test_a_new_login_starts_a_new_twelve_hours(clock, chief):
    client = login_verified(Client(), chief)
    clock.shift(timedelta(hours=11, minutes=50))
    login_verified(client, chief)
    for _ in range(3):
        clock.shift(timedelta(minutes=20))
        assert client.get("/admin/").status_code == 200
