from datetime import UTC, datetime

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from tests.factories import make_person
from units.audit import acting
from units.models import Unavailability, Unit
from units.services import unit_create


def events(name):
    return LogEntry.objects.filter(additional_data__event=name)


def test_creating_a_unit_is_audited_with_its_actor(db):
    admin = get_user_model().objects.create_user("clerk")
    unit = unit_create(name="Marine Unit", code="marine", actor=admin)
    entry = LogEntry.objects.get_for_object(unit).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == admin


def test_schedule_changes_are_audited(db):
    person = make_person("Ann")
    clerk = get_user_model().objects.create_user("clerk")
    with acting(clerk):
        leave = Unavailability.objects.create(
            person=person, starts_at=datetime(2026, 1, 1, tzinfo=UTC), ends_at=datetime(2026, 1, 2, tzinfo=UTC)
        )
        leave.kind = Unavailability.Kind.SICK
        leave.save()
    actions = list(LogEntry.objects.get_for_object(leave).order_by("timestamp").values_list("action", "actor"))
    assert actions == [(LogEntry.Action.CREATE, clerk.id), (LogEntry.Action.UPDATE, clerk.id)]


def test_login_and_failed_login_are_audited_with_address_and_outcome(db):
    user = get_user_model().objects.create_user("ann", password="correct horse battery")
    client = Client(REMOTE_ADDR="10.1.2.3")
    # Axes (the lockout) needs the request that carries the login; Client.login passes none by itself.
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.1.2.3")
    assert client.login(request=request, username="ann", password="correct horse battery")
    assert not client.login(request=request, username="ann", password="wrong")
    assert not client.login(request=request, username="nobody", password="wrong")
    ok = events("login").get()
    assert (ok.actor, ok.object_pk, ok.additional_data["outcome"]) == (user, str(user.pk), "success")
    failed = events("login_failed").order_by("id")
    assert [(e.object_repr, e.additional_data["username"]) for e in failed] == [("ann", "ann"), ("nobody", "nobody")]


def test_audit_log_does_not_record_secrets(db):
    unit = unit_create(name="Canine", code="k9")
    entry = LogEntry.objects.get_for_object(unit).get()
    assert unit.feed_token not in str(entry.changes)
    assert Unit.objects.count() == 1


def test_entries_written_for_an_actor_inside_a_request_keep_the_clients_address(db):
    from auditlog.context import set_actor

    clerk = get_user_model().objects.create_user("clerk")
    person = make_person("Ann")
    with set_actor(None, remote_addr="192.0.2.44"):  # what the request middleware does
        with acting(clerk):
            leave = Unavailability.objects.create(
                person=person, starts_at=datetime(2026, 1, 1, tzinfo=UTC), ends_at=datetime(2026, 1, 2, tzinfo=UTC)
            )
        unit = unit_create(name="Marine", code="marine")
    inside = LogEntry.objects.get_for_object(leave).get()
    after = LogEntry.objects.get_for_object(unit).get()
    assert (inside.actor, inside.remote_addr) == (clerk, "192.0.2.44")
    assert (after.actor, after.remote_addr) == (None, "192.0.2.44")


def test_entries_still_name_their_actor_after_the_user_is_deleted(db):
    from auditlog.context import set_actor

    from tests.factories import login_verified

    clerk = get_user_model().objects.create_superuser("clerk", password="correct horse battery")
    client = login_verified(Client(), clerk)  # an explicit entry: the login
    client.post("/admin/units/unit/add/", {  # an automatic entry, through the request's context
        "name": "Marine", "code": "marine", "timezone": "Europe/London", "active": "on",
        "tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    with set_actor(clerk):  # as a task or command does
        unit_create(name="Canine", code="k9")
    with acting(clerk):
        unit_create(name="Dogs", code="dogs")
    entries = [events("login").get(), *(LogEntry.objects.get_for_object(Unit.objects.get(code=code)).get()
                                        for code in ("marine", "k9", "dogs"))]

    clerk.delete()

    assert [(entry.actor_id, entry.actor_email) for entry in LogEntry.objects.filter(
        pk__in=[entry.pk for entry in entries]).order_by("id")] == [(None, "clerk")] * 4


def test_an_entry_written_after_an_actors_context_ended_names_nobody(db):
    from auditlog.context import set_actor

    clerk = get_user_model().objects.create_user("clerk")
    with set_actor(clerk):
        pass
    unit = unit_create(name="Marine", code="marine")

    entry = LogEntry.objects.get_for_object(unit).get()
    assert (entry.actor, entry.actor_email) == (None, None)


def test_the_audit_log_shows_who_acted_after_their_user_was_deleted(db):
    from tests.factories import login_verified

    clerk = get_user_model().objects.create_user("clerk")
    with acting(clerk):
        unit_create(name="Marine", code="marine")
    clerk.delete()
    reader = get_user_model().objects.create_superuser("reader", password="correct horse battery")

    page = login_verified(Client(), reader).get("/admin/auditlog/logentry/").content.decode()

    assert "clerk (user deleted)" in page


# Password changes: a real one is audited, a login re-hashing the password it just checked is not.


def password_entries(user) -> list[LogEntry]:
    return [e for e in LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.UPDATE)
            if "password" in (e.changes_dict or {})]


def test_a_login_that_upgrades_the_stored_hash_records_no_password_change(db):
    from django.contrib.auth.hashers import make_password

    # A hash Django replaces at the next login: its salt is shorter than the hasher asks for today.
    user = get_user_model().objects.create_user("ann", password="x")
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("correct horse battery", "weak"))
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.1.2.3")

    assert Client().login(request=request, username="ann", password="correct horse battery")

    user.refresh_from_db()
    assert "$weak$" not in user.password  # re-hashed, with the same password
    assert password_entries(user) == []
    assert events("login").filter(object_pk=str(user.pk)).exists()


def test_an_administrators_password_change_is_audited(db):
    from tests.factories import login_verified

    chief = get_user_model().objects.create_superuser("chief", password="x" * 16)
    ann = get_user_model().objects.create_user("ann", password="correct horse battery")
    client = login_verified(Client(REMOTE_ADDR="10.1.2.3"), chief)

    response = client.post(f"/admin/auth/user/{ann.pk}/password/", {
        "password1": "a new and long passphrase", "password2": "a new and long passphrase"})

    assert response.status_code == 302
    [entry] = password_entries(ann)
    assert (entry.actor, entry.remote_addr) == (chief, "10.1.2.3")
    assert "a new and long passphrase" not in str(entry.changes)


def test_a_users_own_password_change_is_audited(db):
    from tests.factories import login_verified

    chief = get_user_model().objects.create_superuser("chief", password="correct horse battery")
    client = login_verified(Client(), chief)

    response = client.post("/admin/password_change/", {
        "old_password": "correct horse battery", "new_password1": "a new and long passphrase",
        "new_password2": "a new and long passphrase"})

    assert response.status_code == 302
    [entry] = password_entries(chief)
    assert entry.actor == chief


def test_making_a_password_unusable_is_audited(db):
    ann = get_user_model().objects.create_user("ann", password="correct horse battery")

    ann.set_unusable_password()
    ann.save()

    assert len(password_entries(ann)) == 1
