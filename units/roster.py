"""Roster import: people, their contact methods and unit memberships, one CSV row per person.

What an import does, so admin staff can predict it:

- A row is matched to an existing person by badge_number, then by username; a match is updated, never
  duplicated. Usernames are never renamed by an import.
- full_name, rank and home_station are set from the row (an empty cell clears rank or station).
- Contact methods and memberships are only added or changed, never removed: a number missing from a
  spreadsheet must not silently stop someone being called out, so removal stays a deliberate admin act.
- Imported numbers and addresses are unverified; one already on file keeps its verification, order and delay.
- ``unit`` holds one or more unit codes separated by ``;``; ``role`` holds one role for all of them or one
  per unit in the same order (empty means member). ``qualifications`` (codes separated by ``;``) are set
  exactly on every listed membership. Unknown qualification codes are errors rather than created, because
  a typo would otherwise invent a qualification nobody else holds.
- The file is one transaction: any row with an error, or a dry run, rolls everything back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction

from units.audit import acting
from units.models import ContactMethod, Membership, Person, Qualification, Unit

COLUMNS = (
    "username", "full_name", "rank", "badge_number", "home_station",
    "email", "sms", "voice", "unit", "role", "qualifications",
)
PERSON_FIELDS = ("full_name", "rank", "badge_number", "home_station")
LIST_SEPARATOR = ";"
ROW = "row"  # error key for problems that belong to no single column

# Column, kind, position and delay of the contact methods an import creates: text and email at once,
# a phone call a minute later if nobody has answered.
CONTACT_COLUMNS = (
    ("sms", ContactMethod.Kind.SMS, 0, 0),
    ("email", ContactMethod.Kind.EMAIL, 1, 0),
    ("voice", ContactMethod.Kind.VOICE, 2, 1),
)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowResult:
    row: int  # as a spreadsheet numbers it: the header is row 1
    username: str
    outcome: Outcome
    errors: dict[str, list[str]] = field(default_factory=dict)  # column -> messages
    changes: list[str] = field(default_factory=list)


@dataclass
class RosterResult:
    dry_run: bool
    header_errors: list[str]
    rows: list[RowResult]

    @property
    def ok(self) -> bool:
        return not self.header_errors and all(row.outcome != Outcome.ERROR for row in self.rows)

    @property
    def saved(self) -> bool:
        return self.ok and not self.dry_run

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


class RowInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class _Lookups:
    units: dict[str, Unit]
    qualifications: dict[str, Qualification]
    badges_seen: dict[str, int] = field(default_factory=dict)
    usernames_seen: dict[str, int] = field(default_factory=dict)


@dataclass
class _Plan:
    user: AbstractUser
    person: Person
    created: bool
    save_user: bool = False
    save_person: bool = False
    contacts: list[ContactMethod] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    qualifications: list[tuple[Membership, list[Qualification]]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if self.created:
            return Outcome.CREATED
        return Outcome.UPDATED if self.changes else Outcome.UNCHANGED


def roster_import(*, csv_text: str, dry_run: bool, actor) -> RosterResult:
    try:
        header, *records = list(csv.reader(io.StringIO(csv_text.removeprefix("\ufeff")))) or [[]]
    except csv.Error as error:
        return RosterResult(dry_run=dry_run, header_errors=[f"The file is not readable as CSV: {error}."], rows=[])
    header = [name.strip().lower() for name in header]
    header_errors = _header_errors(header)
    if header_errors:
        return RosterResult(dry_run=dry_run, header_errors=header_errors, rows=[])
    with transaction.atomic(), acting(actor):
        lookups = _Lookups(
            units={unit.code: unit for unit in Unit.objects.all()},
            qualifications={qualification.code: qualification for qualification in Qualification.objects.all()},
        )
        rows = [
            _import_row(number, header, cells, lookups)
            for number, cells in enumerate(records, start=2)
            if any(cell.strip() for cell in cells)
        ]
        result = RosterResult(dry_run=dry_run, header_errors=[], rows=rows)
        if not result.saved:
            transaction.set_rollback(True)
    return result


def _header_errors(header: list[str]) -> list[str]:
    if not any(header):
        return ["The file is empty; the first row must name the columns."]
    errors = []
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        errors.append(f"Missing columns: {', '.join(missing)}.")
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        errors.append(f"Unknown columns: {', '.join(unknown)}. The columns are: {', '.join(COLUMNS)}.")
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        errors.append(f"Columns named more than once: {', '.join(duplicated)}.")
    return errors


def _import_row(number: int, header: list[str], cells: list[str], lookups: _Lookups) -> RowResult:
    named = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name}
    record = {name: named.get(name, "") for name in COLUMNS}
    username = record["username"]
    try:
        _check_stray_cells(header, cells)
        plan = _plan(number, record, lookups)
        with transaction.atomic():
            _apply(plan)
    except RowInvalid as invalid:
        return RowResult(number, username, Outcome.ERROR, errors=invalid.errors)
    return RowResult(number, username, plan.outcome, changes=plan.changes)


def _check_stray_cells(header: list[str], cells: list[str]) -> None:
    # Spreadsheets add unnamed trailing columns; they are harmless unless something was typed in them.
    stray = cells[len(header):] + [cell for name, cell in zip(header, cells, strict=False) if not name]
    if any(cell.strip() for cell in stray):
        raise RowInvalid({ROW: ["The row has a value outside the named columns."]})


def _plan(number: int, record: dict[str, str], lookups: _Lookups) -> _Plan:
    """Work out every write the row needs and validate it, without writing; raise RowInvalid on errors."""
    errors: dict[str, list[str]] = {}
    _check_repeats(number, record, lookups, errors)
    person = _match_person(record, errors)
    plan = _Plan(user=person.user, person=person, created=False) if person else _new_person_plan(record)
    _plan_user(plan, record, errors)
    _plan_person(plan, record, errors)
    _plan_contacts(plan, record, errors)
    _plan_memberships(plan, record, lookups, errors)
    if errors:
        raise RowInvalid(errors)
    return plan


def _check_repeats(number: int, record: dict[str, str], lookups: _Lookups, errors: dict) -> None:
    for column, seen in (("badge_number", lookups.badges_seen), ("username", lookups.usernames_seen)):
        value = record[column]
        if value and value in seen:
            _add(errors, column, f"{value} is also on row {seen[value]}.")
        elif value:
            seen[value] = number


def _match_person(record: dict[str, str], errors: dict) -> Person | None:
    badge, username = record["badge_number"], record["username"]
    people = Person.objects.select_related("user")
    by_badge = people.filter(badge_number=badge).first() if badge else None
    by_username = people.filter(user__username=username).first() if username else None
    if by_badge and by_username and by_badge != by_username:
        _add(errors, "badge_number", f"Badge number {badge} belongs to {by_badge.user.username}, not {username}.")
    elif by_badge and by_badge.user.username != username:
        _add(errors, "username", f"Badge number {badge} belongs to user {by_badge.user.username}; "
                                 "an import does not rename users.")
    return by_badge or by_username


def _new_person_plan(record: dict[str, str]) -> _Plan:
    user_model = get_user_model()
    # A login without a person record (an operator, say) gets one rather than a clashing second login.
    user = user_model.objects.filter(username=record["username"]).first()
    if user is None:
        user = user_model(username=record["username"])
        user.set_unusable_password()
    return _Plan(user=user, person=Person(), created=True, save_user=user.pk is None, save_person=True)


def _plan_user(plan: _Plan, record: dict[str, str], errors: dict) -> None:
    user = plan.user
    before = user.email
    if record["email"]:
        user.email = record["email"]
    if not _clean(user, errors, columns={"username": "username", "email": "email"}, exclude=["password"]):
        return
    if user.email != before:
        plan.save_user = True
        if not plan.created:
            plan.changes.append(f"login email: {before or '(none)'} → {user.email}")


def _plan_person(plan: _Plan, record: dict[str, str], errors: dict) -> None:
    person = plan.person
    before = {name: getattr(person, name) for name in PERSON_FIELDS}
    for name in PERSON_FIELDS:
        setattr(person, name, record[name])
    if not _clean(person, errors, columns={name: name for name in PERSON_FIELDS}, exclude=["user"]):
        return
    for name in PERSON_FIELDS:
        if getattr(person, name) != before[name] and not plan.created:
            plan.save_person = True
            plan.changes.append(f"{name}: {before[name] or '(none)'} → {getattr(person, name) or '(none)'}")


def _plan_contacts(plan: _Plan, record: dict[str, str], errors: dict) -> None:
    for column, kind, position, delay in CONTACT_COLUMNS:
        if not record[column] or column in errors:  # the login's email may already have been refused
            continue
        contact = ContactMethod(kind=kind, address=record[column], position=position, delay_minutes=delay)
        if not _clean(contact, errors, columns={"address": column}, exclude=["person"]):
            continue
        if not _contact_on_file(plan.person, contact):
            plan.contacts.append(contact)
            plan.changes.append(f"added {contact} (unverified)")


def _contact_on_file(person: Person, contact: ContactMethod) -> bool:
    if person.pk is None:
        return False
    lookup = "address__iexact" if contact.kind == ContactMethod.Kind.EMAIL else "address"
    return person.contact_methods.filter(kind=contact.kind, **{lookup: contact.address}).exists()


def _plan_memberships(plan: _Plan, record: dict[str, str], lookups: _Lookups, errors: dict) -> None:
    units = _units(record, lookups, errors)
    roles = _roles(record, errors)
    qualifications = _qualifications(record, lookups, errors)
    if errors:
        return
    existing = {}
    if plan.person.pk:
        existing = {m.unit_id: m for m in plan.person.memberships.prefetch_related("qualifications")}
    for unit, role in zip(units, roles, strict=True):
        membership = existing.get(unit.pk) or Membership(unit=unit, person=plan.person)
        _plan_membership(plan, membership, role, qualifications)


def _plan_membership(plan: _Plan, membership: Membership, role: str, qualifications: list[Qualification]) -> None:
    code = membership.unit.code
    if membership.pk is None:
        plan.changes.append(f"joined {code} as {role}")
    elif membership.role != role:
        plan.changes.append(f"role in {code}: {membership.role} → {role}")
    if membership.pk is None or membership.role != role:
        membership.role = role
        plan.memberships.append(membership)
    held = sorted(q.code for q in membership.qualifications.all()) if membership.pk else []
    wanted = sorted(q.code for q in qualifications)
    if held != wanted:
        plan.qualifications.append((membership, qualifications))
        plan.changes.append(f"qualifications in {code}: {_codes(held)} → {_codes(wanted)}")


def _units(record: dict[str, str], lookups: _Lookups, errors: dict) -> list[Unit]:
    codes = _split(record["unit"])
    unknown = [code for code in codes if code not in lookups.units]
    if unknown:
        _add(errors, "unit", f"Unknown unit code {', '.join(unknown)}; known codes: {_codes(sorted(lookups.units))}.")
    if len(set(codes)) != len(codes):
        _add(errors, "unit", "A unit is listed twice.")
    return [lookups.units[code] for code in codes if code in lookups.units]


def _roles(record: dict[str, str], errors: dict) -> list[str]:
    unit_count = len(_split(record["unit"]))
    given = [role.lower().replace(" ", "_") for role in _split(record["role"])]
    bad = [role for role in given if role not in Membership.Role.values]
    if bad:
        _add(errors, "role", f"{', '.join(bad)} is not a role; use {', '.join(Membership.Role.values)}.")
        return []
    if given and not unit_count:
        _add(errors, "role", "A role is given but no unit.")
    if len(given) > 1 and len(given) != unit_count:
        _add(errors, "role", f"{len(given)} roles for {unit_count} units; give one role, or one per unit.")
        return []
    if len(given) <= 1:
        return [given[0] if given else Membership.Role.MEMBER] * unit_count
    return given


def _qualifications(record: dict[str, str], lookups: _Lookups, errors: dict) -> list[Qualification]:
    codes = _split(record["qualifications"])
    unknown = [code for code in codes if code not in lookups.qualifications]
    if unknown:
        _add(errors, "qualifications", f"Unknown qualification code {', '.join(unknown)}; "
                                       "add it under Qualifications first.")
    if codes and not record["unit"]:
        _add(errors, "qualifications", "Qualifications are held in a unit; give the unit too.")
    return [lookups.qualifications[code] for code in codes if code in lookups.qualifications]


def _apply(plan: _Plan) -> None:
    """Write what ``_plan`` validated; full_clean runs again now that every object has its relations."""
    if plan.save_user:
        _save(plan.user, exclude=["password"])
    plan.person.user = plan.user
    if plan.save_person:
        _save(plan.person)
    for contact in plan.contacts:
        contact.person = plan.person
        _save(contact)
    for membership in plan.memberships:
        membership.person = plan.person
        _save(membership)
    for membership, qualifications in plan.qualifications:
        membership.qualifications.set(qualifications)


def _save(obj, exclude=None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as error:
        raise RowInvalid({ROW: [f"{obj._meta.verbose_name}: {message}" for message in error.messages]}) from None
    obj.save()


def _clean(obj, errors: dict, *, columns: dict[str, str], exclude: list[str]) -> bool:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            for message in messages:
                _add(errors, columns.get(name, ROW), message)
        return False
    return True


def _add(errors: dict, column: str, message: str) -> None:
    errors.setdefault(column, []).append(message)


def _split(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]


def _codes(codes: list[str]) -> str:
    return ", ".join(codes) or "(none)"
