from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from tests.factories import login_verified


def test_admin_logout_ends_the_session_and_is_audited(db):
    chief = get_user_model().objects.create_superuser("chief", password="correct horse battery")
    client = login_verified(Client(REMOTE_ADDR="192.0.2.10"), chief)
    session_key = client.session.session_key
    assert client.get("/admin/").status_code == 200

    response = client.post("/admin/logout/")

    assert response.status_code == 200
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get("/admin/").status_code == 302
    entry = LogEntry.objects.get(additional_data__event="logout")
    assert (entry.actor, entry.object_pk, entry.remote_addr) == (chief, str(chief.pk), "192.0.2.10")
