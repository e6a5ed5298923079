from datetime import datetime, timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.forms import MultiWidget
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import add_member, login_verified, make_person, make_rotation, make_unit
from units.models import (
    ContactMethod,
    FixedRule,
    Membership,
    Override,
    Person,
    Qualification,
    Rotation,
    Tier,
    Unavailability,
    Unit,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser(username="chief", password="correct horse battery staple")
    return login_verified(client, user)


def admin_form_data(response, **changes):
    """The POST data a browser would send for the admin form in ``response``, with ``changes`` applied."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, MultiWidget):
                for index, part in enumerate(field.field.widget.decompress(value)):
                    data[f"{field.html_name}_{index}"] = "" if part is None else part
            elif value is True:
                data[field.html_name] = "on"
            elif value is not None and value is not False:
                data[field.html_name] = value
    data.update(changes)
    return data


def post_admin_form(client, url, **changes):
    return client.post(url, admin_form_data(client.get(url), **changes))


def error_text(response):
    """Every error message on a re-displayed admin form, including inline formset errors."""
    adminform = response.context["adminform"]
    messages = [str(e) for errors in adminform.form.errors.values() for e in errors]
    for inline in response.context["inline_admin_formsets"]:
        messages += [str(e) for e in inline.formset.non_form_errors()]
        messages += [str(e) for form_errors in inline.formset.errors for es in form_errors.values() for e in es]
    return " ".join(messages)


# Changelist speed: each builder adds ``n`` rows whose columns touch related objects.

def build_people(n):
    unit = make_unit()
    for _ in range(n):
        add_member(unit, make_person())


def build_contact_methods(n):
    for _ in range(n):
        make_person()


def build_units(n):
    for _ in range(n):
        unit = make_unit(commander=make_person())
        add_member(unit, unit.commander, Membership.Role.COMMANDER)


def build_memberships(n):
    unit = make_unit()
    qualification = Qualification.objects.create(code=f"q{unit.pk}", name=f"Qual {unit.pk}")
    for _ in range(n):
        add_member(unit, make_person()).qualifications.add(qualification)


def build_rotations(n):
    for _ in range(n):
        make_rotation(make_unit().tiers.first(), [make_person(), make_person()], weekdays="01234")


def build_overrides(n):
    start = timezone.now()
    for _ in range(n):
        tier = make_unit().tiers.first()
        Override.objects.create(tier=tier, person=make_person(), replaces=make_person(),
                                starts_at=start, ends_at=start + timedelta(hours=4))


def build_unavailability(n):
    start = timezone.now()
    for _ in range(n):
        Unavailability.objects.create(person=make_person(), starts_at=start, ends_at=start + timedelta(days=2))


def build_tiers(n):
    for _ in range(0, n, 2):
        make_unit()


def build_fixed_rules(n):
    for _ in range(n):
        FixedRule.objects.create(tier=make_unit().tiers.first(), person=make_person())


CHANGELISTS = [
    (Person, build_people),
    (ContactMethod, build_contact_methods),
    (Unit, build_units),
    (Membership, build_memberships),
    (Rotation, build_rotations),
    (Override, build_overrides),
    (Unavailability, build_unavailability),
    (Tier, build_tiers),
    (FixedRule, build_fixed_rules),
]


@pytest.mark.parametrize(("model", "build"), CHANGELISTS, ids=[model.__name__ for model, _ in CHANGELISTS])
def test_changelist_query_count_does_not_grow_with_rows(admin_client, model, build):
    url = reverse(f"admin:units_{model._meta.model_name}_changelist")
    build(5)
    admin_client.get(url)  # warm per-process caches such as content types

    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    build(45)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    assert len(response.context["cl"].result_list) >= 50
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


def test_person_changelist_counts_units_and_finds_by_badge(admin_client):
    person = make_person("Dana Scully")
    add_member(make_unit(), person)
    add_member(make_unit(), person)
    make_person("Fox Mulder")

    response = admin_client.get(reverse("admin:units_person_changelist"), {"q": person.badge_number})

    rows = response.context["cl"].result_list
    assert [(p.full_name, p.unit_count) for p in rows] == [("Dana Scully", 2)]


def test_unit_changelist_links_to_schedule_preview_and_duty_views(admin_client):
    unit = make_unit()

    content = admin_client.get(reverse("admin:units_unit_changelist")).content.decode()

    assert reverse("admin:units_unit_schedule", args=[unit.pk]) in content
    assert reverse("admin:units_unit_on_call") in content
    assert reverse("admin:units_unit_coverage_gaps") in content


def test_unit_page_links_to_its_schedule_preview(admin_client):
    unit = make_unit()

    response = admin_client.get(reverse("admin:units_unit_change", args=[unit.pk]))

    assert reverse("admin:units_unit_schedule", args=[unit.pk]).encode() in response.content


def test_person_and_unit_pages_show_their_calendar_feed_address(admin_client):
    person, unit = make_person(), make_unit()

    person_page = admin_client.get(reverse("admin:units_person_change", args=[person.pk]))
    unit_page = admin_client.get(reverse("admin:units_unit_change", args=[unit.pk]))

    assert person.feed_token in person_page.content.decode()
    assert unit.feed_token in unit_page.content.decode()
    assert unit.feed_token not in person_page.content.decode()


def test_creating_a_unit_gives_it_primary_and_secondary_lists(admin_client):
    response = post_admin_form(admin_client, reverse("admin:units_unit_add"), name="Dog Section", code="k9")

    assert response.status_code == 302
    unit = Unit.objects.get(code="k9")
    assert [(t.position, t.name) for t in unit.tiers.all()] == [(1, "Primary"), (2, "Secondary")]


def rotation_changes(tier, *people, **changes):
    fields = {
        "tier": tier.pk, "name": "Weekdays", "shift_length": 1, "shift_unit": "weeks",
        "start_date": "2026-01-05", "handoff_time": "09:00", "weekdays": ["0", "1", "2", "3", "4"],
        "participants-TOTAL_FORMS": len(people) or 1,
    }
    for index, person in enumerate(people):
        fields |= {f"participants-{index}-person": person.pk, f"participants-{index}-position": index}
    return fields | changes


def test_rotation_with_weekday_checkboxes_and_participants_is_saved(admin_client):
    tier = make_unit().tiers.first()
    alice, bob = make_person("Alice"), make_person("Bob")

    response = post_admin_form(admin_client, reverse("admin:units_rotation_add"), **rotation_changes(tier, alice, bob))

    assert response.status_code == 302
    rotation = Rotation.objects.get(tier=tier)
    assert rotation.weekdays == "01234"
    assert [p.person for p in rotation.participants.all()] == [alice, bob]


def test_new_rotation_defaults_to_every_day(admin_client):
    response = admin_client.get(reverse("admin:units_rotation_add"))

    assert response.context["adminform"].form["weekdays"].value() == list("0123456")


def test_rotation_changelist_describes_shift_and_days_in_words(admin_client):
    make_rotation(make_unit().tiers.first(), [make_person()], length=1, unit="weeks", weekdays="56")
    make_rotation(make_unit().tiers.first(), [make_person()], length=12, unit="hours")

    response = admin_client.get(reverse("admin:units_rotation_changelist"))

    content = response.content.decode()
    assert '<td class="field-shift">1 week</td>' in content
    assert '<td class="field-shift">12 hours</td>' in content
    assert '<td class="field-days">Sat Sun</td>' in content
    assert '<td class="field-days">Every day</td>' in content


def test_rotation_change_form_ticks_the_stored_weekdays(admin_client):
    rotation = make_rotation(make_unit().tiers.first(), [make_person()], weekdays="56")

    response = admin_client.get(reverse("admin:units_rotation_change", args=[rotation.pk]))

    assert response.context["adminform"].form["weekdays"].value() == ["5", "6"]
    assert b'value="5" id="id_weekdays_5" checked' in response.content


def test_rotation_without_participants_is_refused(admin_client):
    tier = make_unit().tiers.first()

    response = post_admin_form(admin_client, reverse("admin:units_rotation_add"), **rotation_changes(tier))

    assert response.status_code == 200
    assert "A rotation needs at least one participant." in error_text(response)
    assert not Rotation.objects.exists()


def test_removing_the_last_participant_is_refused(admin_client):
    rotation = make_rotation(make_unit().tiers.first(), [make_person()])
    url = reverse("admin:units_rotation_change", args=[rotation.pk])

    response = post_admin_form(admin_client, url, **{"participants-0-DELETE": "on"})

    assert "A rotation needs at least one participant." in error_text(response)
    assert rotation.participants.count() == 1


def test_rotation_ending_before_it_starts_is_refused(admin_client):
    tier = make_unit().tiers.first()
    changes = rotation_changes(tier, make_person(), end_date="2026-01-01")

    response = post_admin_form(admin_client, reverse("admin:units_rotation_add"), **changes)

    assert "The end date must be after the start date." in error_text(response)
    assert not Rotation.objects.exists()


def test_rotation_without_any_weekday_is_refused(admin_client):
    tier = make_unit().tiers.first()
    url = reverse("admin:units_rotation_add")
    data = admin_form_data(admin_client.get(url), **rotation_changes(tier, make_person()))
    del data["weekdays"]

    response = admin_client.post(url, data)

    assert "Choose at least one day." in error_text(response)
    assert not Rotation.objects.exists()


def test_invalid_phone_number_is_refused(admin_client):
    person = make_person(verified_sms=False)

    response = post_admin_form(admin_client, reverse("admin:units_contactmethod_add"),
                               person=person.pk, kind="sms", address="07700 12")

    assert "is not a phone number in international form" in error_text(response)
    assert not ContactMethod.objects.exists()


def test_phone_number_is_stored_in_international_form(admin_client):
    person = make_person(verified_sms=False)

    post_admin_form(admin_client, reverse("admin:units_contactmethod_add"),
                    person=person.pk, kind="voice", address="+44 7911 123456")

    assert ContactMethod.objects.get(person=person).address == "+447911123456"


def test_invalid_phone_number_in_person_inline_is_refused(admin_client):
    person = make_person(verified_sms=False)
    url = reverse("admin:units_person_change", args=[person.pk])
    changes = {"contact_methods-TOTAL_FORMS": 1, "contact_methods-0-kind": "sms",
               "contact_methods-0-address": "+1 555", "contact_methods-0-position": 0,
               "contact_methods-0-delay_minutes": 0}

    response = post_admin_form(admin_client, url, **changes)

    assert "is not a valid phone number" in error_text(response)
    assert not person.contact_methods.exists()


def override_changes(tier, person, start, hours, **changes):
    end = start + timedelta(hours=hours)
    return {
        "tier": tier.pk, "person": person.pk,
        "starts_at_0": start.date().isoformat(), "starts_at_1": start.time().isoformat(),
        "ends_at_0": end.date().isoformat(), "ends_at_1": end.time().isoformat(),
    } | changes


def test_override_overlapping_another_for_the_same_person_is_refused(admin_client):
    tier = make_unit().tiers.first()
    person = make_person("Carol")
    start = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.get_current_timezone())
    Override.objects.create(tier=tier, person=person, starts_at=start, ends_at=start + timedelta(hours=8))

    changes = override_changes(tier, person, start + timedelta(hours=4), 8)
    response = post_admin_form(admin_client, reverse("admin:units_override_add"), **changes)

    assert "Carol already has an override on this list overlapping" in error_text(response)
    assert Override.objects.count() == 1


def test_override_ending_before_it_starts_is_refused(admin_client):
    tier = make_unit().tiers.first()
    start = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.get_current_timezone())

    changes = override_changes(tier, make_person(), start, -2)
    response = post_admin_form(admin_client, reverse("admin:units_override_add"), **changes)

    assert "The end must be after the start." in error_text(response)
    assert not Override.objects.exists()


def test_two_overlapping_overrides_added_together_on_a_tier_are_refused(admin_client):
    tier = make_unit().tiers.first()
    person = make_person("Carol")
    changes = {"overrides-TOTAL_FORMS": 2}
    for index, day in enumerate(["2026-06-01", "2026-06-01"]):
        changes |= {
            f"overrides-{index}-person": person.pk,
            f"overrides-{index}-starts_at_0": day, f"overrides-{index}-starts_at_1": f"0{index + 8}:00",
            f"overrides-{index}-ends_at_0": day, f"overrides-{index}-ends_at_1": "18:00",
        }

    response = post_admin_form(admin_client, reverse("admin:units_tier_change", args=[tier.pk]), **changes)

    assert "Carol has two overlapping overrides on this list." in error_text(response)
    assert not Override.objects.exists()


def test_unavailability_ending_before_it_starts_is_refused(admin_client):
    person = make_person()

    response = post_admin_form(admin_client, reverse("admin:units_unavailability_add"), person=person.pk,
                               kind="leave", starts_at_0="2026-06-10", starts_at_1="09:00",
                               ends_at_0="2026-06-09", ends_at_1="09:00")

    assert "The end must be after the start." in error_text(response)
    assert not Unavailability.objects.exists()


def test_tier_page_offers_adding_a_rotation_to_that_tier(admin_client):
    tier = make_unit().tiers.first()

    response = admin_client.get(reverse("admin:units_tier_change", args=[tier.pk]))

    assert f'{reverse("admin:units_rotation_add")}?tier={tier.pk}'.encode() in response.content


def test_otp_devices_and_audit_log_are_in_the_admin():
    registered = admin.site._registry
    assert {StaticDevice, TOTPDevice, LogEntry} <= set(registered)


def test_admin_edits_are_audited_with_the_actor(admin_client):
    unit = make_unit()
    url = reverse("admin:units_unit_change", args=[unit.pk])

    post_admin_form(admin_client, url, description="Firearms support")

    entry = LogEntry.objects.get_for_object(unit).latest("timestamp")
    assert entry.actor.username == "chief"
    assert "description" in entry.changes_dict


def test_fixed_rule_needs_a_role_or_a_person(admin_client):
    tier = make_unit().tiers.first()

    response = post_admin_form(admin_client, reverse("admin:units_fixedrule_add"), tier=tier.pk)

    assert "Choose either a role or a person, not both." in error_text(response)
    assert not FixedRule.objects.exists()
