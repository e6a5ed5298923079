from datetime import timedelta

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from tests.factories import login_verified, make_person, make_unit
from tests.units.test_admin import admin_form_data
from units.models import Unavailability

UNITS_MODELS = [
    "qualification", "person", "contactmethod", "unit", "membership", "tier", "rotation",
    "rotationparticipant", "override", "unavailability", "fixedrule",
]
AUDIT_LOG = reverse_lazy("admin:auditlog_logentry_changelist")


def permissions(group_name):
    """The group's permissions outside the callouts and reports apps (tests/callouts/test_operator_permissions.py
    and tests/reports/test_roles.py have those)."""
    group = Group.objects.get(name=group_name)
    granted = group.permissions.exclude(content_type__app_label__in=["callouts", "reports"]).select_related(
        "content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in granted}


def staff_client(group_name, *, is_staff=True):
    user = get_user_model().objects.create_user(username=group_name.lower(), is_staff=is_staff)
    user.groups.add(Group.objects.get(name=group_name))
    return login_verified(Client(), user)


def test_operators_can_view_every_units_model_and_change_nothing(db):
    assert permissions("Operators") == {f"units.view_{model}" for model in UNITS_MODELS}


def test_supervisors_can_also_manage_leave_and_overrides(db):
    assert permissions("Supervisors") == {f"units.view_{model}" for model in UNITS_MODELS} | {
        f"units.{action}_{model}" for model in ["unavailability", "override"] for action in ["add", "change", "delete"]
    }


def test_responders_have_no_admin_permissions(db):
    assert permissions("Responders") == set()


def test_administrators_manage_units_users_devices_and_read_the_audit_log(db):
    granted = permissions("Administrators")

    assert {f"units.{a}_{m}" for m in UNITS_MODELS for a in ["add", "change", "delete", "view"]} <= granted
    assert {"auth.change_user", "auth.add_group", "otp_totp.add_totpdevice", "otp_static.add_statictoken"} <= granted
    assert "auditlog.view_logentry" in granted
    assert not {p for p in granted if p.startswith("auditlog.") and p != "auditlog.view_logentry"}


def test_responder_without_staff_flag_is_sent_to_the_login_page(db):
    client = staff_client("Responders", is_staff=False)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_responder_marked_staff_still_cannot_open_any_admin_page(db):
    client = staff_client("Responders")
    unit = make_unit()

    assert client.get(reverse("admin:units_unit_changelist")).status_code == 403
    assert client.get(reverse("admin:units_unit_change", args=[unit.pk])).status_code == 403
    assert client.get(reverse("admin:units_unit_on_call")).status_code == 403
    assert client.get(AUDIT_LOG).status_code == 403


def test_operator_can_view_units_and_duty_views_but_not_change_them(db):
    client = staff_client("Operators")
    unit = make_unit()
    url = reverse("admin:units_unit_change", args=[unit.pk])
    data = admin_form_data(client.get(url), description="Changed by an operator")

    assert client.get(reverse("admin:units_unit_changelist")).status_code == 200
    assert client.get(reverse("admin:units_unit_on_call")).status_code == 200
    assert client.get(reverse("admin:units_unit_schedule", args=[unit.pk])).status_code == 200
    assert client.post(url, data).status_code == 403
    assert client.get(reverse("admin:units_unit_add")).status_code == 403
    unit.refresh_from_db()
    assert unit.description == ""


def test_operator_cannot_read_the_audit_log(db):
    client = staff_client("Operators")

    assert client.get(AUDIT_LOG).status_code == 403


def test_supervisor_can_record_leave_but_not_change_a_unit(db):
    client = staff_client("Supervisors")
    person, unit = make_person(), make_unit()
    start = timezone.localtime() + timedelta(days=1)
    leave = {"person": person.pk, "kind": "leave", "starts_at_0": start.date().isoformat(), "starts_at_1": "09:00",
             "ends_at_0": (start + timedelta(days=7)).date().isoformat(), "ends_at_1": "09:00"}
    add_leave = reverse("admin:units_unavailability_add")
    change_unit = reverse("admin:units_unit_change", args=[unit.pk])

    assert client.post(add_leave, admin_form_data(client.get(add_leave), **leave)).status_code == 302
    assert Unavailability.objects.filter(person=person).exists()
    assert client.post(change_unit, admin_form_data(client.get(change_unit), name="Renamed")).status_code == 403


def test_administrator_can_edit_a_unit_and_read_its_audit_trail(db):
    client = staff_client("Administrators")
    unit = make_unit(name="Dog Section")
    url = reverse("admin:units_unit_change", args=[unit.pk])

    response = client.post(url, admin_form_data(client.get(url), description="Dogs and handlers"))

    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.description == "Dogs and handlers"
    entry = LogEntry.objects.get_for_object(unit).latest("timestamp")
    assert entry.actor.username == "administrators"
    log = client.get(AUDIT_LOG)
    assert log.status_code == 200
    assert entry in log.context["cl"].result_list
