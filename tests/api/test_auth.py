import hashlib
import time
from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.api.conftest import BACKUP_CODES, PASSWORD, enrol
from tests.factories import login_verified
from units.models import Device
from units.services import device_revoke, person_deactivate

ME = "/api/v1/me/"
REFUSED = {"code": "invalid_credentials", "message": "Wrong username, password or one-time code.", "fields": {}}
LOCKED = "account_locked"


def events(name):
    return LogEntry.objects.filter(additional_data__event=name).order_by("id")


def test_enrolment_returns_a_token_once_that_then_authenticates(anon_client, enrollee):
    response = enrol(anon_client, enrollee.user.username)

    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert len(token) >= 43  # token_urlsafe(32): 256 random bits
    assert (body["name"], body["platform"], body["token_prefix"]) == ("Work phone", "android", token[:8])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(ME).json()["username"] == enrollee.user.username
    listed = client.get("/api/v1/auth/devices/").json()["results"]
    assert [d["token_prefix"] for d in listed] == [token[:8]]
    assert "token" not in listed[0]


def test_the_database_and_audit_log_hold_only_the_tokens_hash(anon_client, enrollee):
    token = enrol(anon_client, enrollee.user.username).json()["token"]

    device = Device.objects.get()
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in Device.objects.values_list(*[f.attname for f in Device._meta.fields]).get()]
    audit = [str(e.changes) + str(e.additional_data) + e.changes_text for e in LogEntry.objects.all()]
    assert not [text for text in stored + audit if token in text]


def test_a_backup_code_enrols_once_only(anon_client, enrollee):
    assert enrol(anon_client, enrollee.user.username).status_code == 201

    response = enrol(anon_client, enrollee.user.username)

    assert (response.status_code, response.json()["error"]) == (400, REFUSED)


def test_an_authenticator_app_code_enrols(anon_client, enrollee):
    device = TOTPDevice.objects.create(user=enrollee.user, name="phone")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()

    response = enrol(anon_client, enrollee.user.username, otp_token=f"{totp.token():06d}")

    assert response.status_code == 201


@pytest.mark.parametrize("credentials", [
    {"password": "wrong password"},
    {"otp_token": "wrong999"},
    {"username": "nobody"},
], ids=["wrong password", "wrong one-time code", "unknown user"])
def test_wrong_credentials_get_one_answer_that_does_not_say_which_part_was_wrong(anon_client, enrollee, credentials):
    fields = {"username": enrollee.user.username, **credentials}

    response = enrol(anon_client, **fields)

    assert (response.status_code, response.json()) == (400, {"error": REFUSED})
    assert not Device.objects.exists()


def test_an_inactive_person_cannot_enrol(anon_client, enrollee):
    enrollee.active = False
    enrollee.save()

    response = enrol(anon_client, enrollee.user.username)

    assert (response.status_code, response.json()["error"]) == (400, REFUSED)


def test_every_enrolment_attempt_is_audited_with_its_address(anon_client, enrollee):
    enrol(anon_client, enrollee.user.username, password="wrong password")
    enrol(anon_client, enrollee.user.username)
    enrol(anon_client, enrollee.user.username, otp_token="wrong999")

    failed = events("login_failed")
    assert [(e.additional_data["username"], e.remote_addr) for e in failed] == [
        (enrollee.user.username, "198.51.100.7")
    ] * 2
    assert events("otp_failed").count() == 1
    login = events("login").get()
    assert (login.actor, login.remote_addr) == (enrollee.user, "198.51.100.7")
    enrolled = events("device_enrolled").get()
    assert (enrolled.actor, enrolled.remote_addr, enrolled.additional_data["platform"]) == (
        enrollee.user, "198.51.100.7", "android"
    )


def test_a_stale_token_sent_along_does_not_stop_enrolment(anon_client, enrollee):
    response = enrol(anon_client, enrollee.user.username, HTTP_AUTHORIZATION="Token expired-or-made-up")

    assert response.status_code == 201


def test_a_revoked_token_is_refused_on_its_very_next_request(api_client):
    client = api_client()
    assert client.get(ME).status_code == 200

    device_revoke(device=client.device, actor=None)
    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed", "message": "This device was revoked: enrol again.", "fields": {},
    }
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_ends_180_days_after_enrolment_however_often_it_is_used(api_client, settings):
    settings.DEVICE_IDLE_DAYS = 30
    settings.DEVICE_MAX_AGE_DAYS = 180
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = api_client()
        for _ in range(12):  # used every fortnight
            clock.shift(timedelta(days=14))
            assert client.get(ME).status_code == 200
        clock.shift(timedelta(days=180 - 12 * 14, seconds=-1))
        assert client.get(ME).status_code == 200
        clock.shift(timedelta(seconds=2))

        response = client.get(ME)

        assert (response.status_code, response.json()["error"]["message"]) == (
            401, "This device token expired 180 days after its enrolment: enrol again."
        )
        client.device.refresh_from_db()
        assert client.device.revoked_reason == Device.RevokedReason.MAX_AGE
        assert client.get(ME).json()["error"]["message"] == "This device token expired: enrol again."


def test_a_token_idle_for_longer_than_the_limit_expires_for_good(api_client, settings):
    settings.DEVICE_IDLE_DAYS = 30
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = api_client()
        clock.shift(timedelta(days=29, hours=23))
        assert client.get(ME).status_code == 200  # use resets the idle clock
        clock.shift(timedelta(days=30, seconds=1))

        response = client.get(ME)

        assert (response.status_code, response.json()["error"]["message"]) == (
            401, "This device token expired after 30 days without use: enrol again."
        )
        client.device.refresh_from_db()
        assert client.device.revoked_reason == Device.RevokedReason.IDLE
        assert events("device_revoked").get().additional_data["reason"] == "idle"
        assert client.get(ME).json()["error"]["message"] == "This device token expired: enrol again."


def test_last_use_is_written_at_most_once_a_minute(api_client, django_assert_num_queries):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = api_client()
        enrolled_at = client.device.last_used_at
        clock.shift(timedelta(seconds=30))
        client.get(ME)
        client.device.refresh_from_db()
        assert client.device.last_used_at == enrolled_at
        clock.shift(timedelta(seconds=31))
        client.get(ME)
        client.device.refresh_from_db()
        assert client.device.last_used_at == timezone.now()


def test_a_deactivated_person_is_refused_and_their_devices_revoked(api_client, member_a):
    client = api_client(member_a.user)

    person_deactivate(person=member_a, actor=None)

    assert client.get(ME).status_code == 401
    client.device.refresh_from_db()
    assert client.device.revoked_reason == Device.RevokedReason.DEACTIVATED


def test_a_person_made_inactive_by_any_means_is_refused(api_client, member_a):
    client = api_client(member_a.user)

    type(member_a).objects.filter(pk=member_a.pk).update(active=False)

    assert client.get(ME).json()["error"]["message"] == "This account is disabled."


def test_an_inactive_user_is_refused(api_client):
    client = api_client()

    get_user_model().objects.filter(pk=client.user.pk).update(is_active=False)

    assert client.get(ME).status_code == 401


# Lockout: 5 failures within 15 minutes lock the username until an administrator unlocks it.


def fail(client, username, times):
    for _ in range(times):
        response = enrol(client, username, password="wrong password")
    return response


def test_five_failed_enrolments_lock_the_account_even_with_the_right_credentials(anon_client, enrollee):
    assert fail(anon_client, enrollee.user.username, 4).status_code == 400

    fifth = fail(anon_client, enrollee.user.username, 1)
    afterwards = enrol(anon_client, enrollee.user.username)

    assert (fifth.status_code, fifth.json()["error"]["code"]) == (403, LOCKED)
    assert (afterwards.status_code, afterwards.json()["error"]) == (403, {
        "code": LOCKED, "fields": {},
        "message": "Account locked after too many failed logins. Ask an administrator to unlock it.",
    })
    assert not Device.objects.exists()


def test_the_lock_holds_from_any_address_and_also_at_the_admin_login(anon_client, enrollee):
    enrollee.user.is_staff = True
    enrollee.user.save()
    fail(anon_client, enrollee.user.username, 5)

    other_address = APIClient(REMOTE_ADDR="203.0.113.9")
    admin_login = Client(REMOTE_ADDR="203.0.113.9").post("/admin/login/", {
        "username": enrollee.user.username, "password": PASSWORD,
        "otp_device": enrollee.user.staticdevice_set.get().persistent_id, "otp_token": BACKUP_CODES[1],
    })

    assert enrol(other_address, enrollee.user.username).json()["error"]["code"] == LOCKED
    assert admin_login.status_code == 403
    assert "Account locked" in admin_login.content.decode()


def test_failed_admin_logins_lock_enrolment_too(anon_client, enrollee):
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": enrollee.user.username, "password": "wrong"})

    assert enrol(anon_client, enrollee.user.username).json()["error"]["code"] == LOCKED


def test_wrong_one_time_codes_count_towards_the_lock(anon_client, enrollee):
    for _ in range(5):
        response = enrol(anon_client, enrollee.user.username, otp_token="wrong999")

    assert response.json()["error"]["code"] == LOCKED
    assert enrol(anon_client, enrollee.user.username).status_code == 403


def test_failures_older_than_fifteen_minutes_do_not_count(anon_client, enrollee):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(anon_client, enrollee.user.username, 4)
        clock.shift(timedelta(minutes=15, seconds=1))
        assert fail(anon_client, enrollee.user.username, 4).status_code == 400

        assert enrol(anon_client, enrollee.user.username).status_code == 201


def test_a_lock_does_not_lift_by_itself(anon_client, enrollee):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(anon_client, enrollee.user.username, 5)
        clock.shift(timedelta(days=7))

        assert enrol(anon_client, enrollee.user.username).json()["error"]["code"] == LOCKED


def test_an_administrator_unlocks_the_account_in_the_admin(anon_client, enrollee):
    fail(anon_client, enrollee.user.username, 5)
    chief = get_user_model().objects.create_superuser("chief", password="x")
    admin = login_verified(Client(), chief)
    attempts = AccessAttempt.objects.filter(username=enrollee.user.username)

    response = admin.post("/admin/axes/accessattempt/", {
        "action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes",
    })

    assert response.status_code == 302
    assert enrol(anon_client, enrollee.user.username).status_code == 201
    unlocked = events("account_unlocked").get()
    assert (unlocked.actor, unlocked.object_repr) == (chief, str(enrollee.user))


def test_axes_reset_username_unlocks_the_account(anon_client, enrollee):
    fail(anon_client, enrollee.user.username, 5)

    call_command("axes_reset_username", enrollee.user.username)

    assert enrol(anon_client, enrollee.user.username).status_code == 201
    assert events("account_unlocked").count() == 1


def test_enrolment_is_rate_limited_per_address(anon_client, enrollee, settings):
    for n in range(10):
        enrol(anon_client, f"someone{n}")

    response = enrol(anon_client, enrollee.user.username)

    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("throttled", {})
    assert 0 < error["wait"] <= 3600
    assert int(response["Retry-After"]) == error["wait"]
    assert enrol(APIClient(REMOTE_ADDR="203.0.113.9"), enrollee.user.username).status_code == 201


def test_wrong_one_time_codes_at_the_admin_login_lock_the_account(anon_client, enrollee):
    enrollee.user.is_staff = True
    enrollee.user.save()
    client = Client(REMOTE_ADDR="203.0.113.9")
    device = enrollee.user.staticdevice_set.get().persistent_id
    for _ in range(5):
        client.post("/admin/login/", {"username": enrollee.user.username, "password": PASSWORD,
                                      "otp_device": device, "otp_token": "wrong999"})

    assert enrol(anon_client, enrollee.user.username).json()["error"]["code"] == LOCKED
    failed = events("login_failed").filter(remote_addr="203.0.113.9")
    assert failed.count() == 5


def test_a_request_with_a_device_token_creates_no_session(api_client):
    from django.contrib.sessions.models import Session

    response = api_client().get(ME)

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()
