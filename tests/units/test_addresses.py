"""Every record and limit by address takes the client's address from the connection, or from trusted proxies."""

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import login_verified
from units.addresses import client_address
from units.models import Unit

FORGED = "203.0.113.66"


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(("proxies", "forwarded_for", "expected"), [
    (0, None, "198.51.100.5"),
    (0, FORGED, "198.51.100.5"),
    (1, "192.0.2.20", "192.0.2.20"),
    (1, f"{FORGED}, 192.0.2.20", "192.0.2.20"),
    (2, f"{FORGED}, 192.0.2.20, 10.0.0.2", "192.0.2.20"),
    (2, "192.0.2.20", "192.0.2.20"),  # fewer hops than proxies: the outermost one there is
    (1, None, "198.51.100.5"),
    (1, "not an address", "198.51.100.5"),
    (1, "192.0.2.20:5678", "192.0.2.20"),
    (1, "[2001:db8::7]:443", "2001:db8::7"),
])
def test_client_address_trusts_only_as_many_forwarded_hops_as_there_are_proxies(
        settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.5", **headers)

    assert client_address(request) == expected


def admin_creates_a_unit(client):
    response = client.post("/admin/units/unit/add/", {
        "name": "Marine", "code": "marine", "timezone": "Europe/London", "active": "on",
        "tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return LogEntry.objects.get_for_object(Unit.objects.get(code="marine")).get()


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    chief = get_user_model().objects.create_superuser("chief", password="correct horse battery")
    client = Client(REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR=FORGED)
    client.post("/admin/login/", {"username": "chief", "password": "wrong", "otp_token": "123456"})
    login_verified(client, chief)

    change = admin_creates_a_unit(client)

    failed = LogEntry.objects.get(additional_data__event="login_failed")
    login = LogEntry.objects.filter(additional_data__event="login").latest("id")
    assert [failed.remote_addr, login.remote_addr, change.remote_addr] == ["198.51.100.5"] * 3
    assert AccessAttempt.objects.get().ip_address == "198.51.100.5"


def test_behind_two_proxies_the_second_forwarded_address_from_the_right_is_recorded(db, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    chief = get_user_model().objects.create_superuser("chief", password="correct horse battery")
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{FORGED}, 192.0.2.20, 10.0.0.2")
    client.post("/admin/login/", {"username": "chief", "password": "wrong", "otp_token": "123456"})
    login_verified(client, chief)

    change = admin_creates_a_unit(client)

    failed = LogEntry.objects.get(additional_data__event="login_failed")
    login = LogEntry.objects.filter(additional_data__event="login").latest("id")
    assert [failed.remote_addr, login.remote_addr, change.remote_addr] == ["192.0.2.20"] * 3
    assert AccessAttempt.objects.get().ip_address == "192.0.2.20"


def test_a_forged_forwarded_for_does_not_dodge_the_per_address_limit(db, settings, monkeypatch):
    settings.TRUSTED_PROXY_COUNT = 0
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")
    for n in range(2):
        APIClient(REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").get("/api/schema/")

    response = APIClient(REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR="203.0.113.99").get("/api/schema/")

    assert response.status_code == 429


def test_behind_a_proxy_each_client_has_its_own_limit(db, settings, monkeypatch):
    settings.TRUSTED_PROXY_COUNT = 1
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(2):
        APIClient(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.20").get("/api/schema/")

    assert APIClient(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.20").get("/api/schema/").status_code == 429
    assert APIClient(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.21").get("/api/schema/").status_code == 200
