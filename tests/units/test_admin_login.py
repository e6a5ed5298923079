import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"




@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser(username="chief", password=PASSWORD)


def post_login(client, **fields):
    return client.post("/admin/login/?next=/admin/", {"username": "chief", "password": PASSWORD, **fields})


def test_password_only_session_cannot_reach_admin_index(client, staff):
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_login_form_asks_for_otp_token(client, db):
    response = client.get("/admin/login/")

    assert b'name="otp_token"' in response.content


def test_login_without_otp_token_is_refused(client, staff):
    StaticToken.objects.create(device=StaticDevice.objects.create(user=staff, name="backup"), token="abcd1234")

    response = post_login(client)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/admin/").status_code == 302


def test_login_with_static_backup_code_reaches_index_and_uses_up_the_code(client, staff):
    device = StaticDevice.objects.create(user=staff, name="backup")
    device.token_set.create(token="abcd1234")

    response = post_login(client, otp_device=device.persistent_id, otp_token="abcd1234")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert not device.token_set.exists()


def test_login_with_wrong_backup_code_is_refused(client, staff):
    device = StaticDevice.objects.create(user=staff, name="backup")
    device.token_set.create(token="abcd1234")

    response = post_login(client, otp_device=device.persistent_id, otp_token="wrong999")

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_login_with_authenticator_app_code_reaches_index(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()

    response = post_login(client, otp_device=device.persistent_id, otp_token=f"{totp.token():06d}")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_another_users_device_does_not_verify_the_login(client, staff):
    other = get_user_model().objects.create_user(username="other", password=PASSWORD)
    device = StaticDevice.objects.create(user=other, name="backup")
    device.token_set.create(token="abcd1234")

    post_login(client, otp_device=device.persistent_id, otp_token="abcd1234")

    assert client.get("/admin/").status_code == 302


def page_without_csrf(response) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_wrong_password_gets_the_same_answer_as_a_right_one_with_a_missing_or_wrong_code(client, staff):
    from auditlog.models import LogEntry
    from axes.models import AccessAttempt

    device = StaticDevice.objects.create(user=staff, name="Spare codes in the safe")
    device.token_set.create(token="abcd1234")
    TOTPDevice.objects.create(user=staff, name="Pixel of the chief")
    fields = {"otp_device": device.persistent_id}  # what the old two-step page asked for

    answers = [
        post_login(Client(), password="wrong password", otp_token="abcd1234", **fields),
        post_login(Client(), **fields),
        post_login(Client(), otp_token="wrong999", **fields),
        post_login(Client(), otp_token="123456", **fields),
    ]

    assert [answer.status_code for answer in answers] == [200] * 4
    pages = [page_without_csrf(answer) for answer in answers]
    assert pages[1:] == pages[:1] * 3
    assert "Please enter a correct username, password and code" in pages[0]
    assert "Spare codes" not in pages[0] and "Pixel" not in pages[0]  # nothing only a right password shows
    assert client.get("/admin/").status_code == 302
    assert LogEntry.objects.filter(additional_data__event="login_failed").count() == 4
    assert AccessAttempt.objects.get(username="chief").failures_since_start == 4


ENCODED: list[str] = []


class CountingHasher(MD5PasswordHasher):
    """Checking a password encodes it once (verify() calls encode()); Django encodes one for an unknown name too."""

    def encode(self, password, salt):
        ENCODED.append(password)
        return super().encode(password, salt)


@pytest.mark.parametrize("fields", [{"password": "wrong password"}, {"username": "nobody"}, {},
                                    {"otp_token": "wrong999"}])
def test_every_failed_login_costs_one_password_check(staff, settings, fields):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    ENCODED.clear()

    post_login(Client(), **{"otp_token": "123456", **fields})

    assert len(ENCODED) == 1


def input_tag(page: str, name: str) -> str:
    import re

    [tag] = re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
    return tag


def test_the_code_box_brings_up_a_number_pad_and_takes_the_code_the_phone_offers(client, db):
    page = client.get("/admin/login/").content.decode()

    code = input_tag(page, "otp_token")
    assert 'inputmode="numeric"' in code and 'autocomplete="one-time-code"' in code
    backup = input_tag(page, "backup_code")
    assert "inputmode" not in backup and 'autocomplete="off"' in backup
    assert "<summary>Use a backup code instead</summary>" in page


def test_a_backup_code_in_its_own_box_logs_in_once(client, staff):
    device = StaticDevice.objects.create(user=staff, name="backup")
    device.token_set.create(token="abcd1234")

    assert post_login(client, backup_code="abcd1234").status_code == 302
    assert client.get("/admin/").status_code == 200
    assert post_login(Client(), backup_code="abcd1234").status_code == 200


def test_a_wrong_backup_code_gets_the_same_answer_as_a_wrong_password(staff):
    device = StaticDevice.objects.create(user=staff, name="Spare codes in the safe")
    device.token_set.create(token="abcd1234")
    TOTPDevice.objects.create(user=staff, name="Pixel of the chief")

    answers = [post_login(Client(), password="wrong password", backup_code="abcd1234"),
               post_login(Client(), backup_code="wrong999"),
               post_login(Client(), otp_token="123456", backup_code="wrong999")]

    pages = [page_without_csrf(answer) for answer in answers]
    assert pages[1:] == pages[:1] * 2
    assert "Please enter a correct username, password and code" in pages[0]
    assert device.token_set.filter(token="abcd1234").exists()
