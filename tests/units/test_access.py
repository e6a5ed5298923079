"""A deactivated person (or a login switched off) can no longer act anywhere: back office, API, replies."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from tests.factories import login_verified, make_person
from units.services import person_deactivate

PASSWORD = "correct horse battery"  # tests.factories.make_person's


@pytest.fixture
def operator(db):
    person = make_person("Olive Operator")
    person.user.is_staff = True
    person.user.save()
    person.user.groups.add(Group.objects.get(name="Operators"))
    return person


@pytest.fixture
def chief(db):
    return get_user_model().objects.create_superuser("chief", password=PASSWORD)


def test_deactivating_a_person_ends_their_open_back_office_session_at_once(operator, chief):
    client = login_verified(Client(), operator.user)
    session_key = client.session.session_key
    assert client.get("/admin/").status_code == 200

    person_deactivate(person=operator, actor=chief)

    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get("/admin/").status_code == 302
    ended = LogEntry.objects.get(additional_data__event="sessions_ended")
    assert (ended.actor, ended.additional_data["username"], ended.additional_data["sessions"]) == (
        chief, operator.user.username, 1)


def test_a_session_of_a_person_made_inactive_by_any_means_ends_on_its_next_request(operator):
    client = login_verified(Client(REMOTE_ADDR="192.0.2.30"), operator.user)
    assert client.get("/admin/").status_code == 200
    type(operator).objects.filter(pk=operator.pk).update(active=False)  # no service, no signal

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert "_auth_user_id" not in client.session
    ended = LogEntry.objects.get(additional_data__event="session_ended")
    assert (ended.additional_data["username"], ended.additional_data["reason"], ended.remote_addr) == (
        operator.user.username, "account_disabled", "192.0.2.30")


def test_a_login_switched_off_in_the_users_admin_loses_its_session(operator, chief):
    client = login_verified(Client(), operator.user)
    session_key = client.session.session_key
    admin_client = login_verified(Client(), chief)
    user = operator.user
    form = admin_client.get(f"/admin/auth/user/{user.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "is_active"}
    data.update({"groups": [g.pk for g in user.groups.all()], "user_permissions": [], "date_joined_0": "2026-01-01",
                 "date_joined_1": "00:00:00", "last_login_0": "", "last_login_1": "", "password": user.password})

    assert admin_client.post(f"/admin/auth/user/{user.pk}/change/", data).status_code == 302

    user.refresh_from_db()
    assert not user.is_active
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_person_cannot_log_in_even_with_password_and_code(operator, chief):
    device = StaticDevice.objects.create(user=operator.user, name="backup")
    device.token_set.create(token="abcd1234")
    person_deactivate(person=operator, actor=chief)
    client = Client()

    response = client.post("/admin/login/?next=/admin/", {"username": operator.user.username, "password": PASSWORD,
                                                          "otp_device": device.persistent_id,
                                                          "otp_token": "abcd1234"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert LogEntry.objects.filter(additional_data__event="login_failed",
                                   additional_data__username=operator.user.username).exists()
