"""The field reports demo: the walk-through's report lands in Brixton, where patrols and the demo supervisor are
on duty, and the safeguarding rule refers a missing child; seeding again changes nothing."""

import io

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports.areas import area_for_point
from reports.conditions import condition_matches
from reports.models import Area, CirculationPolicy, PartnerAgency, ReferralRule, ReviewPolicy
from reports.selectors import supervised_areas
from units.models import ContactMethod, FixedRule, Membership, Person, Rotation, RotationParticipant, Tier, Unit
from units.schedule import resolve_callout_lists

SEEDED = (Area, Unit, Tier, Membership, FixedRule, Rotation, RotationParticipant, Person, ContactMethod, PartnerAgency,
          ReferralRule, ReviewPolicy, CirculationPolicy)


def snapshot() -> list[str]:
    return [serializers.serialize("json", model.objects.order_by("pk")) for model in SEEDED]


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def on_duty(unit: Unit) -> list[Person]:
    primary = resolve_callout_lists(unit, timezone.now())[0]
    assert primary.tier.position == 1
    return primary.people


def test_seed_demo_seeds_the_reports_demo_too(demo):
    assert "sector lambeth" in demo
    assert Area.objects.get(code="brixton").parent == Area.objects.get(code="lambeth")


def test_a_second_run_changes_nothing_and_logs_nothing(demo):
    before, entries = snapshot(), LogEntry.objects.count()

    call_command("seed_reports_demo", stdout=io.StringIO())

    assert snapshot() == before
    assert LogEntry.objects.count() == entries


def test_the_walkthrough_report_falls_in_brixton_with_patrols_and_the_supervisor_on_duty(demo):
    brixton = area_for_point(51.4613, -0.1145)

    assert brixton.code == "brixton"
    patrols = on_duty(brixton.patrol_unit)
    assert len(patrols) == 2
    for person in patrols:
        kinds = set(person.contact_methods.filter(verified_at__isnull=False).values_list("kind", flat=True))
        assert {"push", "sms", "email"} <= kinds
    supervisor = get_user_model().objects.get(username="supervisor")
    assert [p.user for p in on_duty(brixton.supervisor_unit)] == [supervisor]
    assert supervisor.person.full_name == "Sam Okafor"
    assert set(supervised_areas(supervisor).values_list("code", flat=True)) == {"lambeth", "brixton", "stockwell"}


def test_stockwell_has_its_own_patrols_and_the_same_supervisors(demo):
    stockwell = area_for_point(51.4760, -0.1230)

    assert stockwell.code == "stockwell"
    assert not set(on_duty(stockwell.patrol_unit)) & set(on_duty(Area.objects.get(code="brixton").patrol_unit))
    assert stockwell.supervisor_unit.name == "Lambeth duty supervisors"


def test_the_responder_is_not_patrolling_their_own_reports(demo):
    responder = Person.objects.get(user__username="responder")

    assert not Membership.objects.filter(person=responder, unit__patrolled_areas__isnull=False).exists()


def test_a_missing_child_at_medium_risk_is_referred_to_safeguarding_an_adult_is_not(demo):
    rule = ReferralRule.objects.get(name="Missing child at medium or high risk")

    assert rule.report_type.slug == "missing-person" and rule.priority == "urgent"
    assert rule.act_within_minutes == 60
    assert rule.agency.email == "safeguarding@lambeth.example"
    assert condition_matches(rule.condition, {"age": 14, "grading": "medium"})
    assert not condition_matches(rule.condition, {"age": 34, "grading": "high"})
    assert not condition_matches(rule.condition, {"age": 14, "grading": "low"})
    assert "vulnerabilities" in rule.shared_fields and "rationale" in rule.shared_fields


def test_missing_person_policies(demo):
    reviews = dict(ReviewPolicy.objects.filter(report_type__slug="missing-person")
                   .values_list("grading", "within_minutes"))
    reach = dict(CirculationPolicy.objects.filter(report_type__slug="missing-person").values_list("grading", "reach"))

    assert reviews == {"high": 60, "medium": 240, "low": 1440}
    assert reach == {"high": "sector", "medium": "area", "low": "area", "no-apparent-risk": "supervisors"}


def test_without_the_supervisor_login_a_demo_sergeant_is_the_duty_supervisor(db, settings):
    settings.DEBUG = False
    call_command("seed_demo", stdout=io.StringIO())

    supervisors = Unit.objects.get(code="lambeth-supervisors")

    assert [p.badge_number for p in on_duty(supervisors)] == ["1107LX"]
    assert not get_user_model().objects.filter(username="supervisor").exists()


def test_the_supervisor_login_takes_over_when_it_appears(db, settings):
    settings.DEBUG = False
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())

    supervisors = Unit.objects.get(code="lambeth-supervisors")

    assert [p.user.username for p in on_duty(supervisors)] == ["supervisor"]
    secondary = resolve_callout_lists(supervisors, timezone.now())[1]
    assert len(secondary.people) == 1 and secondary.people[0].badge_number in {"1107LX", "1695LX"}


def test_without_the_demo_people_it_says_to_run_seed_demo(db):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_reports_demo", stdout=io.StringIO())
