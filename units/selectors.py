"""Reads built on the schedule: shifts per person and per unit, coverage gaps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Q, QuerySet

from units.models import ContactMethod, Membership, Person, Tier, Unavailability, Unit
from units.schedule import Reason, ResolvedTier, Segment, load_schedules


@dataclass(frozen=True)
class Shift:
    """A contiguous window in which ``person`` is on ``tier``."""

    person: Person
    unit: Unit
    tier: Tier
    start: datetime
    end: datetime
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Gap:
    unit: Unit
    tier: Tier
    start: datetime
    end: datetime
    problem: str  # "empty" | "unverified"
    people: tuple[Person, ...]  # for "unverified": those on the list with no verified contact method


def shifts_from_segments(unit: Unit, segments: list[Segment]) -> list[Shift]:
    """Join consecutive segments in which a person stays on the same tier into one shift."""
    open_shifts: dict[tuple[int, int], Shift] = {}
    done: list[Shift] = []
    for segment in segments:
        present = set()
        for resolved in segment.tiers:
            for entry in resolved.entries:
                key = (resolved.tier.id, entry.person.id)
                present.add(key)
                current = open_shifts.get(key)
                if current and current.end == segment.start:
                    reasons = current.reasons + tuple(r for r in entry.reasons if r not in current.reasons)
                    open_shifts[key] = Shift(entry.person, unit, resolved.tier, current.start, segment.end, reasons)
                else:
                    if current:
                        done.append(current)
                    open_shifts[key] = Shift(entry.person, unit, resolved.tier, segment.start, segment.end,
                                             entry.reasons)
        for key in [key for key in open_shifts if key not in present]:
            done.append(open_shifts.pop(key))
    done.extend(open_shifts.values())
    return sorted(done, key=lambda s: (s.start, s.tier.position, s.person.full_name))


def unit_shifts(unit: Unit, start: datetime, end: datetime) -> list[Shift]:
    schedule = load_schedules([unit], start, end)[unit.id]
    return shifts_from_segments(unit, schedule.segments(start, end))


def person_shifts(person: Person, start: datetime, end: datetime) -> list[Shift]:
    units = Unit.objects.filter(
        Q(memberships__person=person)
        | Q(tiers__rotations__participants__person=person)
        | Q(tiers__overrides__person=person)
        | Q(tiers__fixed_rules__person=person)
    ).distinct()
    shifts = []
    for schedule in load_schedules(units, start, end).values():
        segments = schedule.segments(start, end)
        shifts += [s for s in shifts_from_segments(schedule.unit, segments) if s.person.id == person.id]
    return sorted(shifts, key=lambda s: (s.start, s.unit.name, s.tier.position))


def coverage_gaps(start: datetime, end: datetime, units: Iterable[Unit] | None = None) -> list[Gap]:
    """Windows where a tier's list is empty, or someone on it has no verified way to be reached."""
    if units is None:
        units = Unit.objects.filter(active=True)
    schedules = load_schedules(units, start, end)
    segments = {unit_id: schedule.segments(start, end) for unit_id, schedule in schedules.items()}
    listed = {e.person.id for segs in segments.values() for s in segs for t in s.tiers for e in t.entries}
    unreachable = unverified_people(listed)
    gaps = [
        gap
        for unit_id, unit_segments in segments.items()
        for segment in unit_segments
        for resolved in segment.tiers
        if (gap := tier_gap(schedules[unit_id].unit, resolved, segment, unreachable))
    ]
    return merge_adjacent(sorted(gaps, key=lambda g: (g.unit.name, g.tier.position, g.start)))


def merge_adjacent(gaps: list[Gap]) -> list[Gap]:
    merged: list[Gap] = []
    for gap in gaps:
        previous = merged[-1] if merged else None
        if previous and (previous.tier, previous.end, previous.problem, previous.people) == (
            gap.tier, gap.start, gap.problem, gap.people
        ):
            merged[-1] = replace(previous, end=gap.end)
        else:
            merged.append(gap)
    return merged


NO_CONTACT, UNVERIFIED = "none", "unverified"


def unverified_people(person_ids: Iterable[int]) -> dict[int, str]:
    """Of these people, those with no verified way to reach them: NO_CONTACT for someone with no contact method at
    all (nothing can be sent to them), UNVERIFIED for someone none of whose methods is verified. One query."""
    person_ids = set(person_ids)
    verified: dict[int, bool] = {}
    for person_id, verified_at in ContactMethod.objects.filter(person_id__in=person_ids).values_list(
            "person_id", "verified_at"):
        verified[person_id] = verified.get(person_id, False) or verified_at is not None
    return {person_id: UNVERIFIED if person_id in verified else NO_CONTACT
            for person_id in person_ids if not verified.get(person_id)}


def tier_gap(unit: Unit, resolved: ResolvedTier, segment: Segment, unreachable: dict[int, str]) -> Gap | None:
    if not resolved.entries:
        return Gap(unit, resolved.tier, segment.start, segment.end, "empty", ())
    unverified = tuple(p for p in resolved.people if p.id in unreachable)
    if unverified:
        return Gap(unit, resolved.tier, segment.start, segment.end, "unverified", unverified)
    return None


def sees_every_unit(user) -> bool:
    """Operators launch to any unit and administrators manage them all."""
    return user.has_perm("callouts.launch_callout") or user.has_perm("units.change_unit")


def visible_units(user) -> QuerySet[Unit]:
    """The units whose lists ``user`` may read through the API: the one place that decides it.

    Operators and administrators see every unit; a supervisor (who may view units) sees the units they hold
    a membership of, in any role; anyone else sees none.
    """
    if sees_every_unit(user):
        return Unit.objects.all()
    if user.has_perm("units.view_unit"):
        return Unit.objects.filter(pk__in=Membership.objects.filter(person__user=user).values("unit_id"))
    return Unit.objects.none()


def own_unavailability(user) -> QuerySet[Unavailability]:
    """The leave and other unavailability of ``user``'s own person."""
    return Unavailability.objects.filter(person__user=user)
