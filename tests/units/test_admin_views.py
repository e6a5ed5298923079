import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import add_member, login_verified, make_person, make_rotation, make_unit
from units.models import ContactMethod, FixedRule, Membership, Override, Tier, Unavailability

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, before either side of the Atlantic changes clocks


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser(username="chief", password="correct horse battery staple")
    return login_verified(client, user)


def table_rows(response) -> list[str]:
    """The text of each body row of the page's table, cells separated by " | "."""
    body = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S).group(1)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append(" | ".join(" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells))
    return rows


def weekly_unit(code, first, second, **unit_fields):
    """A unit whose primary list rotates weekly between two people, handing off on Mondays at 09:00."""
    unit = make_unit(code, **unit_fields)
    primary, _ = unit.tiers.all()
    make_rotation(primary, [first, second], name="Weekly", start=date(2026, 1, 5), handoff=time(9, 0))
    return unit


def test_on_call_now_shows_primary_and_secondary_of_every_active_unit(admin_client):
    alice, bob, carol = make_person("Alice Archer"), make_person("Bob Baker"), make_person("Carol Cole")
    dogs = weekly_unit("k9", alice, bob, name="Dog Section")
    Override.objects.create(tier=dogs.tiers.get(position=2), person=carol, reason="Covering the weekend",
                            starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    weekly_unit("tsu", bob, alice, name="Technical Support")
    weekly_unit("old", carol, bob, name="Disbanded Unit", active=False)

    response = admin_client.get(reverse("admin:units_unit_on_call"))

    # Carol's override ends at 13:00; the weekly rotation hands over next Monday.
    assert table_rows(response) == [
        "Dog Section | Mon 2 Mar 12:00 GMT Europe/London | Alice Archer | Carol Cole | Mon 2 Mar 13:00 GMT | "
        "Next 14 days | Launch callout",
        "Technical Support | Mon 2 Mar 12:00 GMT Europe/London | Bob Baker | Nobody | Mon 9 Mar 09:00 GMT | "
        "Next 14 days | Launch callout",
    ]
    content = response.content.decode()
    assert 'title="Weekly rotation">Alice Archer' in content
    assert 'title="Added by override: Covering the weekend">Carol Cole' in content


def test_on_call_now_shows_further_lists_by_name(admin_client):
    unit = weekly_unit("k9", make_person("Alice Archer"), make_person("Bob Baker"), name="Dog Section")
    command = Tier.objects.create(unit=unit, position=3, name="Command")
    FixedRule.objects.create(tier=command, person=make_person("Dee Dunn"))

    response = admin_client.get(reverse("admin:units_unit_on_call"))

    assert table_rows(response) == ["Dog Section | Mon 2 Mar 12:00 GMT Europe/London | Alice Archer | Nobody | "
                                    "Command: Dee Dunn | Mon 9 Mar 09:00 GMT | Next 14 days | Launch callout"]


def test_on_call_now_leaves_out_people_on_leave(admin_client):
    alice, bob = make_person("Alice Archer"), make_person("Bob Baker")
    weekly_unit("k9", alice, bob, name="Dog Section")
    Unavailability.objects.create(person=alice, starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))

    response = admin_client.get(reverse("admin:units_unit_on_call"))

    assert table_rows(response) == ["Dog Section | Mon 2 Mar 12:00 GMT Europe/London | Nobody | Nobody | "
                                    "Tue 3 Mar 12:00 GMT | Next 14 days | Launch callout"]


def test_on_call_now_query_count_does_not_grow_with_units(admin_client):
    url = reverse("admin:units_unit_on_call")
    for _ in range(2):
        weekly_unit(None, make_person(), make_person())
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(6):
        weekly_unit(None, make_person(), make_person())

    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    assert len(table_rows(response)) == 8
    assert len(many) == len(few)


def test_on_call_now_shows_each_units_local_time_with_its_zone_on_a_24_hour_clock(admin_client):
    weekly_unit("k9", make_person("Alice Archer"), make_person("Bob Baker"), name="Dog Section", tz="America/New_York")
    weekly_unit("tsu", make_person("Carl Cole"), make_person("Dee Dunn"), name="Technical Support", tz="Asia/Tokyo")

    rows = [row.split(" | ") for row in table_rows(admin_client.get(reverse("admin:units_unit_on_call")))]

    # NOW is 12:00 UTC: 07:00 in New York, 21:00 in Tokyo; both hand over on Mondays at 09:00 local time.
    assert [(row[0], row[1], row[4]) for row in rows] == [
        ("Dog Section", "Mon 2 Mar 07:00 EST America/New_York", "Mon 2 Mar 09:00 EST"),
        ("Technical Support", "Mon 2 Mar 21:00 JST Asia/Tokyo", "Mon 9 Mar 09:00 JST"),
    ]


def test_on_call_now_has_a_launch_button_per_unit_for_those_who_may_launch(admin_client):
    dogs = weekly_unit("k9", make_person("Alice Archer"), make_person("Bob Baker"), name="Dog Section")
    tsu = weekly_unit("tsu", make_person("Carl Cole"), make_person("Dee Dunn"), name="Technical Support")

    content = admin_client.get(reverse("admin:units_unit_on_call")).content.decode()

    launch = reverse("admin:callouts_callout_launch")
    for unit in (dogs, tsu):
        assert f'<a class="button duty-launch" href="{launch}?unit={unit.pk}">Launch callout</a>' in content


@pytest.mark.parametrize("name", ["units_unit_on_call", "units_unit_coverage_gaps"])
def test_duty_pages_offer_a_launch_to_operators_and_none_to_supervisors(client, db, name):
    unit = weekly_unit("k9", make_person("Alice Archer", verified_sms=False), make_person("Bob Baker"),
                       name="Dog Section")
    launch = f'href="{reverse("admin:callouts_callout_launch")}?unit={unit.pk}"'
    seen = {}
    for role in ("Operators", "Supervisors"):
        user = get_user_model().objects.create_user(username=role, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        response = login_verified(Client(), user).get(reverse(f"admin:{name}"))
        assert response.status_code == 200 and "Dog Section" in response.content.decode()
        seen[role] = response.content.decode().count(launch)

    assert seen == {"Operators": 1, "Supervisors": 0}


def test_on_call_now_flags_people_with_no_verified_contact_method(admin_client):
    unverified, nothing = make_person("Alice Archer", verified_sms=False), make_person("Bob Baker", verified_sms=False)
    ContactMethod.objects.create(person=unverified, kind="sms", address="+447700900111")
    unit = weekly_unit("k9", unverified, make_person("Cat Cole"), name="Dog Section")
    FixedRule.objects.create(tier=unit.tiers.get(position=2), person=nothing)
    FixedRule.objects.create(tier=unit.tiers.get(position=2), person=make_person("Dee Dunn"))

    response = admin_client.get(reverse("admin:units_unit_on_call"))

    row = table_rows(response)[0].split(" | ")
    assert row[2:4] == ["Alice Archer no verified contact", "Bob Baker no contact method , Dee Dunn"]
    assert 'class="duty-person duty-unreachable" title="Weekly rotation">Alice Archer' in response.content.decode()


def test_schedule_preview_lists_handoffs_in_the_units_local_time(admin_client):
    alice, bob, chief = make_person("Alice Archer"), make_person("Bob Baker"), make_person("Chief Inspector Dee")
    unit = weekly_unit("k9", alice, bob, name="Dog Section", tz="Europe/Berlin")
    add_member(unit, chief, Membership.Role.COMMANDER)
    FixedRule.objects.create(tier=unit.tiers.get(position=2), role=Membership.Role.COMMANDER)

    response = admin_client.get(reverse("admin:units_unit_schedule", args=[unit.pk]))

    # NOW is 13:00 in Berlin; handoffs are at 09:00 Berlin time, 08:00 UTC.
    assert table_rows(response) == [
        "Mon 2 Mar 13:00 | Mon 9 Mar 09:00 | 6 days, 20 hours | Alice Archer | Chief Inspector Dee",
        "Mon 9 Mar 09:00 | Mon 16 Mar 09:00 | 1 week | Bob Baker | Chief Inspector Dee",
        "Mon 16 Mar 09:00 | Mon 16 Mar 13:00 | 4 hours | Alice Archer | Chief Inspector Dee",
    ]
    content = response.content.decode()
    assert "<th scope=\"col\">Primary</th><th scope=\"col\">Secondary</th>" in content
    assert 'title="Commanders always on Secondary">Chief Inspector Dee' in content


def test_schedule_preview_of_unknown_unit_is_not_found(admin_client):
    assert admin_client.get(reverse("admin:units_unit_schedule", args=[999])).status_code == 404


def test_coverage_gaps_report_empty_lists_and_unreachable_people(admin_client):
    dave = make_person("Dave Dark", verified_sms=False)
    weekly_unit("k9", dave, dave, name="Dog Section")
    covered = weekly_unit("tsu", make_person(), make_person(), name="Technical Support")
    FixedRule.objects.create(tier=covered.tiers.get(position=2), person=make_person())

    response = admin_client.get(reverse("admin:units_unit_coverage_gaps"))

    assert table_rows(response) == [
        "Dog Section | Primary | Mon 2 Mar 12:00 GMT | Mon 16 Mar 12:00 GMT | No verified contact method: Dave Dark | "
        "Launch callout",
        "Dog Section | Secondary | Mon 2 Mar 12:00 GMT | Mon 16 Mar 12:00 GMT | Nobody on the list | ",
    ]


def test_coverage_gaps_report_says_so_when_there_are_none(admin_client):
    unit = weekly_unit("tsu", make_person(), make_person(), name="Technical Support")
    FixedRule.objects.create(tier=unit.tiers.get(position=2), person=make_person())

    response = admin_client.get(reverse("admin:units_unit_coverage_gaps"))

    assert table_rows(response) == ["No gaps: every list has someone reachable."]


def test_coverage_gaps_are_in_each_units_own_time_with_its_zone(admin_client):
    weekly_unit("k9", make_person("Alice Archer", verified_sms=False), make_person("Bob Baker"), name="Dog Section",
                tz="America/New_York")
    weekly_unit("tsu", make_person("Carl Cole", verified_sms=False), make_person("Dee Dunn"), name="Technical Support",
                tz="Europe/Berlin")

    rows = [row.split(" | ")[:4] for row in table_rows(admin_client.get(reverse("admin:units_unit_coverage_gaps")))]

    # NOW is 12:00 UTC: 07:00 in New York, 13:00 in Berlin. Both hand over on Mondays at 09:00 local time, and New
    # York's clocks go forward on 8 March.
    assert ["Dog Section", "Primary", "Mon 2 Mar 09:00 EST", "Mon 9 Mar 09:00 EDT"] in rows
    assert ["Dog Section", "Secondary", "Mon 2 Mar 07:00 EST", "Mon 16 Mar 08:00 EDT"] in rows
    assert ["Technical Support", "Primary", "Mon 2 Mar 13:00 CET", "Mon 9 Mar 09:00 CET"] in rows


@pytest.mark.parametrize("name", ["units_unit_on_call", "units_unit_coverage_gaps"])
def test_duty_views_need_permission_to_view_units(client, db, name):
    clerk = get_user_model().objects.create_user(username="clerk", is_staff=True)
    login_verified(client, clerk)

    assert client.get(reverse(f"admin:{name}")).status_code == 403


def test_schedule_preview_needs_permission_to_view_units(client, db):
    clerk = get_user_model().objects.create_user(username="clerk", is_staff=True)
    login_verified(client, clerk)

    assert client.get(reverse("admin:units_unit_schedule", args=[make_unit().pk])).status_code == 403


def test_duty_views_need_a_second_factor(client, db):
    chief = get_user_model().objects.create_superuser(username="chief", password="correct horse battery staple")
    client.force_login(chief)

    response = client.get(reverse("admin:units_unit_on_call"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_admin_index_links_to_duty_views(admin_client):
    content = admin_client.get(reverse("admin:index")).content.decode()

    assert reverse("admin:units_unit_on_call") in content
    assert reverse("admin:units_unit_coverage_gaps") in content


def test_admin_index_hides_duty_links_from_staff_who_cannot_view_units(client, db):
    clerk = get_user_model().objects.create_user(username="clerk", is_staff=True)
    login_verified(client, clerk)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert reverse("admin:units_unit_on_call") not in response.content.decode()


def test_the_home_and_duty_pages_run_no_inline_code(admin_client):
    from tests.csp import inline_code

    unit = weekly_unit("k9", make_person("Alice Archer"), make_person("Bob Baker"))
    for url in (reverse("admin:index"), reverse("admin:units_unit_on_call"), reverse("admin:units_unit_coverage_gaps"),
                reverse("admin:units_unit_schedule", args=[unit.pk]), reverse("admin:units_roster_import"),
                reverse("admin:units_unit_changelist")):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert inline_code(response) == [], url
