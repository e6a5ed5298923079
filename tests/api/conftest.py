"""API fixtures: clients with a device token, people who can enrol, and a clean throttle cache per test.

    def test_something(api_client, member_a):
        client = api_client(member_a.user)          # APIClient sending "Authorization: Token ..."
        response = client.get("/api/v1/me/")
        client.device, client.token                 # the Device row and its plaintext token
        client.wipe_key                             # the key that signs the device out without the token

``api_client()`` with no user makes a fresh person. ``anon_client`` sends no token.
"""

import pytest
from django.core.cache import cache
from django_otp.plugins.otp_static.models import StaticDevice
from rest_framework.test import APIClient

from tests.factories import make_person
from units.services import device_enrol

PASSWORD = "correct horse battery"  # what tests.factories.make_person gives every user
BACKUP_CODES = ["code0001", "code0002", "code0003", "code0004", "code0005", "code0006"]


@pytest.fixture(autouse=True)
def clear_throttles():
    """Throttle counters live in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client(db):
    def make(user=None, *, name: str = "Test phone", platform: str = "ios", **client_kwargs) -> APIClient:
        user = user if user is not None else make_person().user
        device, token, wipe_key = device_enrol(user=user, name=name, platform=platform)
        client = APIClient(**client_kwargs)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.user, client.device, client.token, client.wipe_key = user, device, token, wipe_key
        return client

    return make


@pytest.fixture
def anon_client():
    return APIClient(REMOTE_ADDR="198.51.100.7")


@pytest.fixture
def enrollee(db):
    """A person whose login has the password PASSWORD and the backup codes BACKUP_CODES."""
    person = make_person("Erin Enrol")
    device = StaticDevice.objects.create(user=person.user, name="backup")
    for code in BACKUP_CODES:
        device.token_set.create(token=code)
    return person


def enrol(client, username, *, password=PASSWORD, otp_token=BACKUP_CODES[0], name="Work phone", platform="android",
          **extra):
    body = {"username": username, "password": password, "otp_token": otp_token, "name": name, "platform": platform}
    return client.post("/api/v1/auth/devices/", body, format="json", **extra)
