"""Demo data for field reports: the Lambeth sector and its beats, their patrols and duty supervisors, and the
missing-person policies, partner agency and referral rule the README's walk-through relies on.

Run after seed_demo (which calls it at its end): the patrols are demo people it made. Every row is keyed on a
code or name, so a second run changes nothing.
"""

from dataclasses import dataclass
from datetime import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reports.models import Area, CirculationPolicy, PartnerAgency, ReferralRule, ReportType, ReviewPolicy
from units.audit import acting
from units.management.commands.seed_demo import (
    LONDON,
    MONDAY,
    PersonSpec,
    seed_contact_methods,
    seed_people,
    sync_participants,
    upsert,
)
from units.models import FixedRule, Membership, Person, Rotation, Unit
from units.services import unit_ensure_tiers

# The demo supervisor login's person, made only when that login exists (seed_demo makes it with DEBUG on).
SUPERVISOR = PersonSpec("supervisor", "Sam Okafor", "4343LX", "Lambeth", "+447700900998",
                        "supervisor@london.police.example", LONDON)


def box(west: float, south: float, east: float, north: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                [west, south]]]}


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    kind: str
    boundary: dict
    parent: str | None = None
    patrol_unit: str | None = None


# Boxes around the real places; Brixton holds 51.4613, -0.1145 (the walk-through's report).
AREAS = (
    AreaSpec("lambeth", "Lambeth", Area.Kind.SECTOR, box(-0.1400, 51.4450, -0.0950, 51.4850)),
    AreaSpec("brixton", "Brixton", Area.Kind.BEAT, box(-0.1300, 51.4500, -0.1000, 51.4700), "lambeth",
             "brixton-response"),
    AreaSpec("stockwell", "Stockwell", Area.Kind.BEAT, box(-0.1350, 51.4700, -0.1050, 51.4820), "lambeth",
             "stockwell-response"),
)


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    description: str
    on_duty: tuple[str, ...]  # badge numbers always on the primary list
    standby: tuple[str, ...]  # badge numbers taking the secondary list in turn, a week each


# Demo people seed_demo makes, by badge number: constables and sergeants based at Brixton and Lambeth.
UNITS = (
    UnitSpec("brixton-response", "Brixton response", "Response patrols on the Brixton beat.",
             ("1450BX", "1534BX"), ("2038BX", "2122BX")),
    UnitSpec("stockwell-response", "Stockwell response", "Response patrols on the Stockwell beat.",
             ("1443LX", "1527LX"), ("2031LX", "2115LX")),
    UnitSpec("lambeth-supervisors", "Lambeth duty supervisors",
             "The duty sergeant supervising the Lambeth sector and its beats.",
             (SUPERVISOR.badge_number,), ("1107LX", "1695LX")),
)
STANDBY = {"name": "Standby weekly", "shift_length": 1, "shift_unit": Rotation.ShiftUnit.WEEKS,
           "start_date": MONDAY, "handoff_time": time(8), "weekdays": "0123456"}
SUPERVISOR_UNIT = "lambeth-supervisors"

MISSING_PERSON = "missing-person"
REVIEW_MINUTES = {"high": 60, "medium": 240, "low": 1440}
REACH = {
    "high": CirculationPolicy.Reach.SECTOR,
    "medium": CirculationPolicy.Reach.AREA,
    "low": CirculationPolicy.Reach.AREA,
    "no-apparent-risk": CirculationPolicy.Reach.SUPERVISORS,
}
AGENCY = {"name": "Lambeth Children's Services (safeguarding)", "email": "safeguarding@lambeth.example"}
RULE_NAME = "Missing child at medium or high risk"
RULE = {
    "condition": [{"field": "grading", "op": "in", "value": ["medium", "high"]},
                  {"field": "age", "op": "lt", "value": 18}],
    "shared_fields": ["name", "age", "date_of_birth", "description", "clothing", "last_seen_place", "last_seen_at",
                      "vulnerabilities", "grading", "rationale"],
    "priority": ReferralRule.Priority.URGENT,
    "act_within_minutes": 60,
    "active": True,
}


def seed_supervisor() -> Person | None:
    """Sam Okafor for the demo supervisor login, when that login exists."""
    person = Person.objects.filter(badge_number=SUPERVISOR.badge_number).first()
    if person is None and not get_user_model().objects.filter(username=SUPERVISOR.username).exists():
        return None
    people = seed_people([SUPERVISOR], {SUPERVISOR.badge_number: "Sergeant"})
    seed_contact_methods([SUPERVISOR], people)
    return people[SUPERVISOR.badge_number]


def demo_people() -> dict[str, Person]:
    badges = {badge for spec in UNITS for badge in spec.on_duty + spec.standby} - {SUPERVISOR.badge_number}
    people = {p.badge_number: p for p in Person.objects.filter(badge_number__in=badges)}
    if missing := badges - set(people):
        raise CommandError(f"Demo people {', '.join(sorted(missing))} are missing: run seed_demo first.")
    return people


def seed_unit(spec: UnitSpec, people: dict[str, Person]) -> Unit:
    unit = upsert(Unit, {"code": spec.code}, {"name": spec.name, "timezone": LONDON,
                                              "description": spec.description})
    primary, secondary = unit_ensure_tiers(unit=unit)[:2]
    on_duty = [people[b] for b in spec.on_duty if b in people]
    standby = [people[b] for b in spec.standby]
    if not on_duty:  # no supervisor login: the first standby sergeant is the duty supervisor
        on_duty, standby = standby[:1], standby[1:]
    role = Membership.Role.TEAM_LEADER if spec.code == SUPERVISOR_UNIT else Membership.Role.MEMBER
    for person in on_duty + standby:
        upsert(Membership, {"unit": unit, "person": person}, {"role": role})
    sync_fixed_rules(primary, on_duty)
    sync_participants(upsert(Rotation, {"tier": secondary, "name": STANDBY["name"]},
                             {k: v for k, v in STANDBY.items() if k != "name"}), standby)
    return unit


def sync_fixed_rules(tier, people: list[Person]) -> None:
    for person in people:
        FixedRule.objects.get_or_create(tier=tier, person=person, role="")
    stale = FixedRule.objects.filter(tier=tier).exclude(person__in=people)
    if stale.exists():
        stale.delete()


def seed_areas(units: dict[str, Unit]) -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for spec in AREAS:
        areas[spec.code] = upsert(Area, {"code": spec.code}, {
            "name": spec.name, "kind": spec.kind, "boundary": spec.boundary,
            "parent": areas[spec.parent] if spec.parent else None,
            "patrol_unit": units[spec.patrol_unit] if spec.patrol_unit else None,
            "supervisor_unit": units[SUPERVISOR_UNIT],
        })
    return areas


def seed_missing_person_policies() -> None:
    missing_person = ReportType.objects.filter(slug=MISSING_PERSON).first()
    if missing_person is None:
        raise CommandError(f'The "{MISSING_PERSON}" report type is missing: run manage.py migrate first.')
    for grading, minutes in REVIEW_MINUTES.items():
        upsert(ReviewPolicy, {"report_type": missing_person, "grading": grading}, {"within_minutes": minutes})
    for grading, reach in REACH.items():
        upsert(CirculationPolicy, {"report_type": missing_person, "grading": grading}, {"reach": reach})
    agency = upsert(PartnerAgency, {"name": AGENCY["name"]}, {"email": AGENCY["email"], "active": True})
    upsert(ReferralRule, {"name": RULE_NAME, "report_type": missing_person}, {"agency": agency, **RULE})


def seed_reports() -> None:
    people = demo_people()
    if supervisor := seed_supervisor():
        people[SUPERVISOR.badge_number] = supervisor
    units = {spec.code: seed_unit(spec, people) for spec in UNITS}
    seed_areas(units)
    seed_missing_person_policies()


class Command(BaseCommand):
    help = "Create or refresh the field reports demo: Lambeth's beats, patrols, supervisors, policies and referrals."

    def handle(self, *args, **options):
        admin = get_user_model().objects.filter(username="admin").first()
        with transaction.atomic(), acting(admin):
            seed_reports()
        self.stdout.write(
            "Field reports: sector lambeth with beats brixton and stockwell, their response patrols and the "
            f'Lambeth duty supervisors; missing-person policies and the referral rule "{RULE_NAME}".'
        )
