import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from reports.management.commands.seed_reports_demo import UNITS as REPORT_UNITS
from units.management.commands.seed_demo import DEMO_PASSWORD, backup_codes
from units.models import (
    ContactMethod,
    FixedRule,
    Membership,
    Override,
    Person,
    Rotation,
    RotationParticipant,
    Unavailability,
    Unit,
)
from units.schedule import resolve_callout_lists
from units.selectors import coverage_gaps

SEEDED = (Unit, Person, ContactMethod, Membership, Rotation, RotationParticipant, FixedRule, Override, Unavailability,
          get_user_model(), TOTPDevice, StaticDevice)


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def snapshot() -> list[str]:
    return [serializers.serialize("json", model.objects.order_by("pk")) for model in SEEDED]


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    return seed()


def test_second_run_changes_nothing_and_logs_nothing(demo):
    before, entries = snapshot(), LogEntry.objects.count()

    seed()

    assert snapshot() == before
    assert LogEntry.objects.count() == entries


def test_logins_after_a_seed_and_the_next_seed_record_no_password_change(demo):
    from django_otp.oath import totp

    users = get_user_model().objects.filter(username__in=["admin", "operator", "supervisor", "responder"])
    hashes = dict(users.values_list("username", "password"))
    for username in hashes:
        device = TOTPDevice.objects.get(user__username=username)
        device.last_t = -1  # the same code again for the next login: this test is not about replays
        device.save(update_fields=["last_t"])
        Client().post("/admin/login/?next=/admin/", {
            "username": username, "password": DEMO_PASSWORD, "otp_token": f"{totp(device.bin_key):06d}"})
    assert get_user_model().objects.get(username="operator").last_login is not None

    seed()

    password_changes = [e for e in LogEntry.objects.filter(action=LogEntry.Action.UPDATE)
                        if "password" in (e.changes_dict or {})]
    assert password_changes == []
    assert dict(users.values_list("username", "password")) == hashes
    assert all(user.check_password(DEMO_PASSWORD) for user in users)


def test_a_demo_password_changed_since_is_set_back_and_that_is_audited(demo):
    operator = get_user_model().objects.get(username="operator")
    operator.set_password("a password of my own")
    operator.save()

    seed()

    operator.refresh_from_db()
    assert operator.check_password(DEMO_PASSWORD)
    changes = [e for e in LogEntry.objects.get_for_object(operator).filter(action=LogEntry.Action.UPDATE)
               if "password" in (e.changes_dict or {})]
    assert len(changes) == 2  # the change, and the seed setting the demo password back


def specialty_units():
    """The 19 specialty units; the field-reports demo adds patrol and supervisor units of its own."""
    return Unit.objects.exclude(code__in=[unit.code for unit in REPORT_UNITS])


def test_demo_has_19_units_in_two_time_zones_and_about_200_people(demo):
    specialty = specialty_units()
    assert specialty.count() == 19
    assert set(specialty.values_list("timezone", flat=True)) == {"Europe/London", "America/Toronto"}
    assert 2 <= specialty.filter(timezone="America/Toronto").count() <= 3
    assert 190 <= Person.objects.count() <= 210
    assert all(10 <= unit.memberships.count() <= 14 for unit in specialty)
    assert Membership.objects.values("person").distinct().count() < Membership.objects.count()


@pytest.mark.parametrize("today", ["2026-03-27", "2026-10-30", "2026-12-24"])
def test_the_only_empty_window_is_the_mounted_branch_weekend(db, settings, today):
    settings.DEBUG = True
    with time_machine.travel(datetime.fromisoformat(today).replace(hour=12, tzinfo=UTC), tick=False):
        seed()
        now = timezone.now()
        gaps = coverage_gaps(now, now + timedelta(days=14))

    empty = {(gap.unit.code, gap.tier.position) for gap in gaps if gap.problem == "empty"}
    assert empty == {("mounted", 2)}
    assert any(gap.problem == "unverified" for gap in gaps)


def test_without_debug_units_and_people_are_seeded_but_no_demo_logins(db, settings):
    settings.DEBUG = False

    output = seed()

    assert specialty_units().count() == 19
    assert not get_user_model().objects.filter(username__in=["admin", "operator", "supervisor", "responder"]).exists()
    assert "DEBUG is off" in output


def test_demo_operator_logs_in_with_the_code_demo_otp_prints(demo, client):
    out = io.StringIO()
    call_command("demo_otp", "operator", stdout=out)
    code = out.getvalue().split()[1]
    device = TOTPDevice.objects.get(user__username="operator")

    response = client.post("/admin/login/?next=/admin/", {
        "username": "operator", "password": DEMO_PASSWORD, "otp_device": device.persistent_id, "otp_token": code,
    })

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_used_backup_code_is_restored_by_the_next_run(demo):
    device = StaticDevice.objects.get(user__username="supervisor")
    code = backup_codes("supervisor")[0]
    assert device.verify_token(code)
    assert not device.verify_token(code)

    seed()

    device.refresh_from_db()
    assert device.verify_token(code)


def test_responder_login_is_a_person_on_a_rotation(demo):
    responder = Person.objects.get(user__username="responder")

    assert responder.memberships.exists()
    assert responder.rotation_slots.exists()
    assert not responder.user.is_staff


def test_demo_otp_refuses_without_debug(demo, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_otp")


def test_the_readmes_sms_reply_example_is_someone_on_the_tactical_support_units_primary_list(demo):
    readme = (settings.BASE_DIR / "README.md").read_text()
    numbers = set(re.findall(r"\./muster reply (\+\d+)", readme))
    primary = resolve_callout_lists(Unit.objects.get(code="tsu"), timezone.now())[0]
    on_primary = set(ContactMethod.objects.filter(person__in=primary.people, kind=ContactMethod.Kind.SMS)
                     .values_list("address", flat=True))
    assert numbers and numbers <= on_primary
