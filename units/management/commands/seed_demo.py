"""Demo data: 19 specialty units, about 200 people with schedules, and one login per role.

Every row is keyed on a code, badge number, username or note, so a second run changes nothing.
Leave and overrides are placed relative to today, so the demo always has something in the coming
fortnight; they move forward by a day when the command runs on a later day.
"""

import hashlib
import itertools
from base64 import b32decode, b32encode
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password, verify_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from units.audit import acting
from units.models import (
    ContactMethod,
    FixedRule,
    Membership,
    Override,
    Person,
    Qualification,
    Rotation,
    RotationParticipant,
    Tier,
    Unavailability,
    Unit,
)
from units.schedule import RotationPlan, local_instant
from units.services import unit_ensure_tiers

LONDON = "Europe/London"
TORONTO = "America/Toronto"

DEMO_PASSWORD = "muster-demo-2026"
# One documented secret for every demo login, so a single authenticator entry serves all four.
DEMO_TOTP_SECRET = "MUSTERDEMOTOTPKEYFORDEMOACCOUNTS"
DEMO_TOTP_KEY = b32decode(DEMO_TOTP_SECRET).hex()
TOTP_DEVICE_NAME = "Demo authenticator"
STATIC_DEVICE_NAME = "Demo backup codes"
BACKUP_CODES_PER_LOGIN = 5


@dataclass(frozen=True)
class DemoAccount:
    username: str
    group: str
    is_staff: bool
    is_superuser: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("admin", "Administrators", is_staff=True, is_superuser=True),
    DemoAccount("operator", "Operators", is_staff=True),
    DemoAccount("supervisor", "Supervisors", is_staff=True),
    # Responders use the app and their calendar feed, never the back office.
    DemoAccount("responder", "Responders", is_staff=False),
)

QUALIFICATIONS = {
    "firearms": "Authorised firearms officer",
    "method-of-entry": "Method of entry",
    "medic": "Tactical medic",
    "negotiator-2": "Negotiator level 2",
    "dog-handler": "Dog handler",
    "coxswain": "Boat coxswain",
    "diver": "Police diver",
    "search-adviser": "Police search adviser (PolSA)",
    "eod-operator": "EOD operator",
    "cbrn": "CBRN responder",
    "public-order": "Public order level 1",
    "rider": "Mounted rider",
    "tfo": "Tactical flight officer",
    "collision-investigator": "Forensic collision investigator",
    "crime-scene": "Crime scene examiner",
    "dvi": "DVI practitioner",
}


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    tz: str
    description: str
    qualifications: tuple[str, ...]
    # "weekly", "split" (weekday and weekend layers), "shifts" (12 hours), "leaders" (fixed rule)
    # or "weekdays" (a weekday layer only: the weekend is a deliberate gap in secondary cover).
    secondary: str


UNITS = (
    UnitSpec("tsu", "Tactical Support Unit", LONDON,
             "Method of entry, public order and firearms support to the boroughs around the clock.",
             ("method-of-entry", "firearms", "medic"), "weekly"),
    UnitSpec("dogs", "Dog Support Unit", LONDON,
             "General-purpose, drugs, cash and explosives search dogs.", ("dog-handler", "medic"), "split"),
    UnitSpec("gsar", "Ground Search and Rescue", LONDON,
             "Searches for missing and vulnerable people in open country, parks and woodland.",
             ("search-adviser", "medic"), "weekly"),
    UnitSpec("cnu", "Crisis Negotiation Unit", LONDON,
             "Negotiators for crisis, kidnap and extortion, and hostage incidents.", ("negotiator-2",), "leaders"),
    UnitSpec("eod", "Explosive Ordnance Disposal", LONDON,
             "Render-safe of suspect devices and historic ordnance.", ("eod-operator", "cbrn"), "weekly"),
    UnitSpec("crt", "Collision Reconstruction Team", LONDON,
             "Forensic investigation of fatal and life-changing road collisions.",
             ("collision-investigator",), "weekly"),
    UnitSpec("pou", "Public Order Unit", LONDON,
             "Level 1 public order serials for protest, football and disorder.", ("public-order", "medic"), "shifts"),
    UnitSpec("cbrn", "CBRN Response Team", LONDON,
             "Chemical, biological, radiological and nuclear first response and decontamination.",
             ("cbrn", "medic"), "weekly"),
    UnitSpec("usu", "Underwater Search Unit", LONDON,
             "Police divers for underwater search, evidence recovery and confined spaces.",
             ("diver", "coxswain", "medic"), "weekly"),
    UnitSpec("mounted", "Mounted Branch", LONDON,
             "Horses and riders for public order, searches and high-visibility patrol. "
             "No weekend secondary cover yet.", ("rider",), "weekdays"),
    UnitSpec("asu", "Air Support Unit", LONDON,
             "Tactical flight officers for the helicopter and drone fleet.", ("tfo",), "shifts"),
    UnitSpec("sfc", "Specialist Firearms Command", LONDON,
             "High-risk warrants and armed intervention.", ("firearms", "method-of-entry", "medic"), "weekly"),
    UnitSpec("hrt", "Hostage Rescue Team", LONDON,
             "Dynamic intervention at hostage and barricade incidents.", ("firearms", "medic", "method-of-entry"),
             "split"),
    UnitSpec("moe", "Method of Entry Team", LONDON,
             "Forced and covert entry for warrants, including hydraulic and thermal tools.",
             ("method-of-entry",), "weekly"),
    UnitSpec("dvi", "Disaster Victim Identification", LONDON,
             "Recovery and identification of the deceased after mass-fatality incidents.",
             ("dvi", "crime-scene"), "leaders"),
    UnitSpec("marine", "Marine Policing Unit", LONDON,
             "Thames patrol, water rescue and recovery.", ("coxswain", "diver", "medic"), "split"),
    UnitSpec("etf", "Emergency Task Force", TORONTO,
             "High-risk warrants, barricaded persons and hostage rescue.", ("firearms", "method-of-entry", "medic"),
             "weekly"),
    UnitSpec("fis", "Forensic Identification Services", TORONTO,
             "Scene examination, fingerprints and photography for major crime.", ("crime-scene",), "leaders"),
    UnitSpec("psrt", "Public Safety Response Team", TORONTO,
             "Crowd management for protests and major events.", ("public-order", "medic"), "weekly"),
)

FIRST_NAMES = (
    "Amelia", "Oliver", "Priya", "James", "Chloe", "Mohammed", "Grace", "Daniel", "Aisha", "Thomas",
    "Sophie", "Kwame", "Emily", "Harry", "Fatima", "George", "Hannah", "Liam", "Olivia", "Ravi",
    "Jessica", "Samuel", "Zara", "Benjamin", "Megan", "Tomasz", "Ellie", "Jack", "Leah", "Noah",
    "Isla", "Marcus", "Niamh", "Ethan", "Yasmin", "Connor", "Ruby", "Adebayo", "Lucy", "Wei",
)
LAST_NAMES = (
    "Smith", "Patel", "Jones", "Williams", "Khan", "Brown", "Taylor", "Davies", "Evans", "Wilson",
    "Thomas", "Roberts", "Johnson", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards",
    "Green", "Hall", "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Turner", "Hill",
    "Scott", "Cooper", "Morris", "Ward", "Moore", "King", "Watson", "Baker", "Harrison", "Morgan",
    "Okafor", "Nowak", "Campbell", "Kelly", "Murphy", "Chen", "Singh", "MacDonald", "O'Brien", "Fraser",
)
LONDON_STATIONS = (
    ("CX", "Charing Cross"), ("LX", "Lambeth"), ("BX", "Brixton"), ("HS", "Hammersmith"),
    ("PG", "Paddington Green"), ("LW", "Lewisham"), ("CR", "Croydon"), ("WB", "Wembley"),
    ("SN", "Stoke Newington"), ("BW", "Bow"), ("KT", "Kentish Town"), ("WW", "Wandsworth"),
)
TORONTO_DIVISIONS = (
    "11 Division", "14 Division", "22 Division", "31 Division", "43 Division", "51 Division", "52 Division",
)
RANKS = {
    LONDON: {"commander": "Inspector", "team_leader": "Sergeant", "member": "Constable"},
    TORONTO: {"commander": "Staff Sergeant", "team_leader": "Sergeant", "member": "Constable"},
}
VERIFIED_AT = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
# Handoffs fall on these dates' weekdays: Monday for weekly lists, Saturday for weekend layers.
MONDAY = date(2025, 1, 6)
SATURDAY = date(2025, 1, 4)


@dataclass(frozen=True)
class PersonSpec:
    username: str
    full_name: str
    badge_number: str
    home_station: str
    phone: str
    email: str
    tz: str
    verified: bool = True


@dataclass
class UnitPlan:
    """A unit's people. Only its own members go on its lists; guests from another unit are on none here."""

    spec: UnitSpec
    commander: PersonSpec
    leaders: list[PersonSpec]
    members: list[PersonSpec]
    primary: list[PersonSpec]
    guests: list[PersonSpec] = field(default_factory=list)

    @property
    def secondary(self) -> list[PersonSpec]:
        return [p for p in self.members if p not in self.primary] + self.leaders

    @property
    def own(self) -> list[PersonSpec]:
        return [self.commander, *self.leaders, *self.members]


RESPONDER = PersonSpec("responder", "Alex Morgan", "4242LX", "Lambeth", "+447700900999",
                       "responder@london.police.example", LONDON)


def person_spec(i: int, j: int, tz: str) -> PersonSpec:
    """The i-th person overall, j-th in their time zone."""
    # 40 first and 50 last names: (i mod 40, 13i mod 50) is unique for the first 200 people.
    first, last = FIRST_NAMES[i % 40], LAST_NAMES[13 * i % 50]
    username = f"{first}.{last}".lower().replace("'", "")
    verified = i % 41 != 7
    if tz == LONDON:
        code, station = LONDON_STATIONS[j % len(LONDON_STATIONS)]
        return PersonSpec(username, f"{first} {last}", f"{1100 + 7 * j}{code}", station, f"+447700900{j:03d}",
                          f"{username}@london.police.example", tz, verified)
    return PersonSpec(username, f"{first} {last}", f"{10400 + 3 * j}", TORONTO_DIVISIONS[j % 7],
                      f"+1416555{100 + j:04d}", f"{username}@toronto.police.example", tz, verified)


def plan_units(*, with_responder: bool) -> list[UnitPlan]:
    serial, per_zone = itertools.count(), {LONDON: itertools.count(), TORONTO: itertools.count()}
    plans = []
    for index, spec in enumerate(UNITS):
        core = 9 + 3 * index % 4
        people = [person_spec(next(serial), next(per_zone[spec.tz]), spec.tz) for _ in range(core)]
        leaders = 2 if index % 2 == 0 or spec.secondary == "leaders" else 1
        members = people[1 + leaders:]
        # At least four of the unit's own people are left for secondary.
        primary = members[:min(4 + index % 3, core - 5)]
        plans.append(UnitPlan(spec, people[0], people[1:1 + leaders], members, primary))
    for zone in (LONDON, TORONTO):
        zoned = [plan for plan in plans if plan.spec.tz == zone]
        for index, plan in enumerate(zoned):
            plan.guests = zoned[index - 1].members[-(1 + index % 2):]
    if with_responder:
        plans[0].members.append(RESPONDER)
        plans[0].primary.append(RESPONDER)
    return plans


def rotations_for(plan: UnitPlan) -> list[tuple[int, dict, list[PersonSpec]]]:
    """(tier position, Rotation fields, participants) for a unit's rotations."""
    pool = plan.secondary
    weekly = {"shift_length": 1, "shift_unit": Rotation.ShiftUnit.WEEKS, "start_date": MONDAY,
              "handoff_time": time(8), "weekdays": "0123456"}
    weekday = {**weekly, "name": "Weekday cover", "weekdays": "01234"}
    secondary = {
        "weekly": [({**weekly, "name": "Secondary weekly"}, pool[:4])],
        "split": [(weekday, pool[:4]), ({**weekly, "name": "Weekend cover", "start_date": SATURDAY,
                                          "weekdays": "56"}, pool[-3:])],
        "shifts": [({**weekly, "name": "12-hour shifts", "shift_length": 12, "shift_unit": Rotation.ShiftUnit.HOURS,
                     "handoff_time": time(7)}, pool[:4])],
        "weekdays": [(weekday, pool[:4])],
        "leaders": [],
    }[plan.spec.secondary]
    return [(1, {**weekly, "name": "Primary weekly"}, plan.primary)] + [(2, f, p) for f, p in secondary]


def role_of(plan: UnitPlan, person: PersonSpec) -> str:
    if person == plan.commander:
        return Membership.Role.COMMANDER
    if person in plan.leaders:
        return Membership.Role.TEAM_LEADER
    return Membership.Role.MEMBER


def ranks(plans: list[UnitPlan]) -> dict[str, str]:
    """A person's rank follows their role in their own unit."""
    return {p.badge_number: RANKS[p.tz][role_of(plan, p)] for plan in plans for p in plan.own}


def changed_fields(obj, values: dict) -> list[str]:
    return [name for name, value in values.items() if getattr(obj, name) != value]


def upsert(model, lookup: dict, values: dict):
    """Create or update one row, validating it and saving only when something differs."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj.save()
        return obj
    if changed := changed_fields(obj, values):
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean()
        obj.save(update_fields=changed)
    return obj


def seed_qualifications() -> dict[str, Qualification]:
    existing = {q.code: q for q in Qualification.objects.filter(code__in=QUALIFICATIONS)}
    Qualification.objects.bulk_create(
        [Qualification(code=code, name=name) for code, name in QUALIFICATIONS.items() if code not in existing]
    )
    return {q.code: q for q in Qualification.objects.filter(code__in=QUALIFICATIONS)}


def seed_units() -> dict[str, Unit]:
    units = {}
    for spec in UNITS:
        units[spec.code] = upsert(Unit, {"code": spec.code}, {
            "name": spec.name, "timezone": spec.tz, "description": spec.description,
        })
        unit_ensure_tiers(unit=units[spec.code])
    return units


def seed_people(specs: list[PersonSpec], rank_by_badge: dict[str, str]) -> dict[str, Person]:
    User = get_user_model()
    badges = [s.badge_number for s in specs]
    people = {p.badge_number: p for p in Person.objects.filter(badge_number__in=badges)}
    missing = [s for s in specs if s.badge_number not in people]
    users = {u.username: u for u in User.objects.filter(username__in=[s.username for s in missing])}
    User.objects.bulk_create([
        User(username=s.username, email=s.email, password=make_password(None))
        for s in missing if s.username not in users
    ])
    users = {u.username: u for u in User.objects.filter(username__in=[s.username for s in missing])}
    Person.objects.bulk_create([
        Person(user=users[s.username], full_name=s.full_name, badge_number=s.badge_number,
               rank=rank_by_badge[s.badge_number], home_station=s.home_station)
        for s in missing
    ])
    return {p.badge_number: p for p in Person.objects.filter(badge_number__in=badges)}


def contact_methods(spec: PersonSpec, person: Person) -> list[ContactMethod]:
    verified_at = VERIFIED_AT if spec.verified else None
    kinds = [
        (ContactMethod.Kind.PUSH, "Work phone (Muster app)", 0),
        (ContactMethod.Kind.SMS, spec.phone, 0),
        (ContactMethod.Kind.EMAIL, spec.email, 0),
        (ContactMethod.Kind.VOICE, spec.phone, 1),
    ]
    return [
        ContactMethod(person=person, kind=kind, address=address, position=position, delay_minutes=delay,
                      verified_at=verified_at)
        for position, (kind, address, delay) in enumerate(kinds)
    ]


def seed_contact_methods(specs: list[PersonSpec], people: dict[str, Person]) -> None:
    existing = set(ContactMethod.objects.filter(person__in=people.values()).values_list("person_id", "kind", "address"))
    ContactMethod.objects.bulk_create([
        method
        for spec in specs
        for method in contact_methods(spec, people[spec.badge_number])
        if (method.person_id, method.kind, method.address) not in existing
    ])


def seed_memberships(plans: list[UnitPlan], units: dict[str, Unit], people: dict[str, Person],
                     qualifications: dict[str, Qualification]) -> None:
    wanted = {}
    for plan in plans:
        unit = units[plan.spec.code]
        for position, person in enumerate(plan.own + plan.guests):
            quals = {plan.spec.qualifications[0], plan.spec.qualifications[position % len(plan.spec.qualifications)]}
            key = (unit.id, people[person.badge_number].id)
            wanted[key] = (role_of(plan, person), [qualifications[code].id for code in sorted(quals)])
        if unit.commander_id != people[plan.commander.badge_number].id:
            unit.commander = people[plan.commander.badge_number]
            unit.save(update_fields=["commander"])
    memberships = sync_memberships(wanted, units)
    Through = Membership.qualifications.through
    existing = set(Through.objects.filter(membership__in=memberships.values())
                   .values_list("membership_id", "qualification_id"))
    Through.objects.bulk_create([
        Through(membership_id=memberships[key].id, qualification_id=qid)
        for key, (_, qids) in wanted.items()
        for qid in qids
        if (memberships[key].id, qid) not in existing
    ])


def sync_memberships(wanted: dict, units: dict[str, Unit]) -> dict[tuple[int, int], Membership]:
    def current():
        return {(m.unit_id, m.person_id): m for m in Membership.objects.filter(unit__in=units.values())}

    memberships = current()
    Membership.objects.bulk_create([
        Membership(unit_id=unit_id, person_id=person_id, role=role)
        for (unit_id, person_id), (role, _) in wanted.items() if (unit_id, person_id) not in memberships
    ])
    stale = [m for key, m in memberships.items() if key in wanted and m.role != wanted[key][0]]
    for membership in stale:
        membership.role = wanted[(membership.unit_id, membership.person_id)][0]
    Membership.objects.bulk_update(stale, ["role"])
    return current()


def seed_schedules(plans: list[UnitPlan], units: dict[str, Unit], people: dict[str, Person]) -> None:
    tiers = {(t.unit_id, t.position): t for t in Tier.objects.filter(unit__in=units.values())}
    for plan in plans:
        unit = units[plan.spec.code]
        for position, fields, participants in rotations_for(plan):
            tier = tiers[(unit.id, position)]
            rotation = upsert(Rotation, {"tier": tier, "name": fields["name"]},
                              {k: v for k, v in fields.items() if k != "name"})
            sync_participants(rotation, [people[p.badge_number] for p in participants])
        if plan.spec.secondary == "leaders":
            FixedRule.objects.get_or_create(tier=tiers[(unit.id, 2)], role=Membership.Role.TEAM_LEADER)
        if RESPONDER in plan.primary and RESPONDER.badge_number in people:
            # The demo responder is always on a primary list, so every demo callout to that unit reaches the app.
            FixedRule.objects.get_or_create(tier=tiers[(unit.id, 1)], person=people[RESPONDER.badge_number])


def sync_participants(rotation: Rotation, people: list[Person]) -> None:
    if list(rotation.participants.values_list("person_id", flat=True)) == [p.id for p in people]:
        return
    rotation.participants.all().delete()
    RotationParticipant.objects.bulk_create([
        RotationParticipant(rotation=rotation, person=person, position=position)
        for position, person in enumerate(people)
    ])


Kind = Unavailability.Kind
# Whoever is on primary then is away and the next on the rotation covers, until the shift ends at the
# latest: (unit, days from today, local start hour, hours, cover reason, absence kind and note or None).
COVER = (
    ("tsu", 2, 8, 48, "Covering annual leave", (Kind.LEAVE, "Annual leave: family wedding")),
    ("crt", 4, 9, 8, "Covering a court day", (Kind.COURT, "Witness at Southwark Crown Court")),
    ("gsar", 6, 8, 56, "Covering training", (Kind.TRAINING, "Swiftwater rescue refresher")),
    ("etf", 1, 0, 96, "Covering vacation", (Kind.LEAVE, "Vacation: cottage week")),
    ("asu", 1, 19, 12, "Shift swap for a night shift", None),
)
# Away without leaving a list empty: commanders are on no list, and the CNU keeps its other team leader.
ABSENCES = (
    ("cnu", "leader", Kind.TRAINING, 3, 9, 8, "National negotiator CPD day"),
    ("dogs", "commander", Kind.LEAVE, 5, 0, 5 * 24, "Annual leave: skiing"),
    ("pou", "commander", Kind.SICK, 0, 0, 3 * 24, "Off sick"),
)


def window(unit: Unit, days: int, hour: int, hours: int) -> tuple[datetime, datetime]:
    today = timezone.now().astimezone(unit.tzinfo).date()
    start = local_instant(today + timedelta(days=days), time(hour), unit.tzinfo)
    return start, start + timedelta(hours=hours)


def seed_windows(plans: list[UnitPlan], units: dict[str, Unit], people: dict[str, Person]) -> None:
    by_code = {plan.spec.code: plan for plan in plans}
    for code, days, hour, hours, reason, absence in COVER:
        plan, unit = by_code[code], units[code]
        seed_cover(unit, [people[p.badge_number] for p in plan.primary], window(unit, days, hour, hours),
                   reason, absence)
    for code, who, kind, days, hour, hours, note in ABSENCES:
        person = by_code[code].leaders[0] if who == "leader" else by_code[code].commander
        starts_at, ends_at = window(units[code], days, hour, hours)
        upsert(Unavailability, {"note": note},
               {"person": people[person.badge_number], "kind": kind, "starts_at": starts_at, "ends_at": ends_at})
    marine = units["marine"]
    starts_at, ends_at = window(marine, 8, 18, 8)
    upsert(Override, {"tier": marine.tiers.get(position=2), "reason": "Thames festival: extra coxswain on call"},
           {"person": marine.commander, "replaces": None, "starts_at": starts_at, "ends_at": ends_at})


def seed_cover(unit: Unit, participants: list[Person], span: tuple[datetime, datetime], reason: str,
               absence: tuple[str, str] | None) -> None:
    primary = unit.tiers.get(position=1)
    rota = RotationPlan(primary.rotations.get(name="Primary weekly"), participants, unit.tzinfo)
    starts_at, ends_at = span
    away = rota.on_call(starts_at)
    if absence:
        kind, note = absence
        upsert(Unavailability, {"note": note}, {"person": away, "kind": kind, "starts_at": starts_at,
                                                "ends_at": ends_at})
    covering = participants[(participants.index(away) + 1) % len(participants)]
    ends_at = min(ends_at, rota.handoff(rota.shift_index(starts_at) + 1))
    upsert(Override, {"tier": primary, "reason": reason},
           {"person": covering, "replaces": away, "starts_at": starts_at, "ends_at": ends_at})


def backup_codes(username: str) -> list[str]:
    """Fixed per login, so they can be documented; every run restores the ones used since."""
    return sorted(
        b32encode(hashlib.sha256(f"muster-demo:{username}:{n}".encode()).digest()[:5]).decode().lower()
        for n in range(BACKUP_CODES_PER_LOGIN)
    )


def seed_demo_logins() -> dict[str, object]:
    hashes = DemoPasswordHashes()
    users = {}
    for account in DEMO_ACCOUNTS:
        user = upsert(get_user_model(), {"username": account.username}, {
            "email": f"{account.username}@muster.example", "password": hashes.for_login(account.username),
            "is_active": True,
            "is_staff": account.is_staff, "is_superuser": account.is_superuser,
        })
        user.groups.add(Group.objects.get_or_create(name=account.group)[0])
        seed_second_factor(user)
        users[account.username] = user
    return users


class DemoPasswordHashes:
    """The hash each demo login is seeded with: the one it has while that still holds the demo password.

    So a second run writes nothing, and a login finds a hash it has no reason to replace: a new hash each run, or
    one with a fixed salt (too short for Django, which replaces it at every login), would be a password change in
    the audit log at every run or login. A stored hash is checked once per run (all four normally share it), and
    the logins that need one share one new hash.
    """

    def __init__(self):
        self.good: dict[str, bool] = {}
        self.new = ""

    def for_login(self, username: str) -> str:
        stored = get_user_model().objects.filter(username=username).values_list("password", flat=True).first()
        if stored and self.holds_demo_password(stored):
            return stored
        self.new = self.new or make_password(DEMO_PASSWORD)
        return self.new

    def holds_demo_password(self, stored: str) -> bool:
        if stored not in self.good:
            correct, must_update = verify_password(DEMO_PASSWORD, stored)
            self.good[stored] = correct and not must_update
        return self.good[stored]


def seed_second_factor(user) -> None:
    unthrottled = {"confirmed": True, "throttling_failure_count": 0, "throttling_failure_timestamp": None}
    upsert(TOTPDevice, {"user": user, "name": TOTP_DEVICE_NAME}, {"key": DEMO_TOTP_KEY, **unthrottled})
    device = upsert(StaticDevice, {"user": user, "name": STATIC_DEVICE_NAME}, unthrottled)
    codes = backup_codes(user.username)
    device.token_set.exclude(token__in=codes).delete()
    present = set(device.token_set.values_list("token", flat=True))
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes if c not in present])


def seed_organisation(*, with_responder: bool) -> int:
    plans = plan_units(with_responder=with_responder)
    specs = [person for plan in plans for person in plan.own]
    qualifications = seed_qualifications()
    units = seed_units()
    people = seed_people(specs, ranks(plans))
    seed_contact_methods(specs, people)
    seed_memberships(plans, units, people, qualifications)
    seed_schedules(plans, units, people)
    seed_windows(plans, units, people)
    return len(people)


class Command(BaseCommand):
    help = "Create or refresh the demo units, people, schedules and (with DEBUG on) demo logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            # The responder login exists first, so seeding its person picks it up by username.
            logins = seed_demo_logins() if settings.DEBUG else {}
            # Keep a responder seeded earlier on their rotation even when this run makes no logins.
            with_responder = bool(logins) or Person.objects.filter(badge_number=RESPONDER.badge_number).exists()
            with acting(logins.get("admin")):
                people = seed_organisation(with_responder=with_responder)
        self.stdout.write(f"Seeded {len(UNITS)} units and {people} people.")
        # Field reports' areas and patrols are made of the people above, so they come last.
        call_command("seed_reports_demo", stdout=self.stdout)
        self.report_logins(logins)

    def report_logins(self, logins: dict) -> None:
        if not logins:
            self.stdout.write(self.style.WARNING(
                "DEBUG is off: no demo logins were created (they have a published password). "
                "Create real accounts with manage.py createsuperuser."
            ))
            return
        self.stdout.write(f"\nAdmin: {settings.SITE_URL}/admin/")
        self.stdout.write(f"Demo logins, password {DEMO_PASSWORD}:")
        for account in DEMO_ACCOUNTS:
            where = "back office" if account.is_staff else "app only"
            codes = " ".join(backup_codes(account.username))
            self.stdout.write(f"  {account.username:<10} {account.group:<14} {where:<11}  backup codes: {codes}")
        self.stdout.write(
            f"Second factor: the login page's Code box takes the code of TOTP secret {DEMO_TOTP_SECRET} (the same "
            f'for every demo login, its "{TOTP_DEVICE_NAME}"; ./muster otp prints it); a backup code '
            f'("{STATIC_DEVICE_NAME}") goes under "Use a backup code instead". Each backup code works once; '
            "seed_demo restores them."
        )
