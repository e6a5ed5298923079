"""Who is on each callout list of a unit, at an instant or over a window.

Precedence, strongest first: unavailability (out of every list), overrides (replace or add),
rotations (participants take turns in the unit's wall-clock time), fixed rules (reporting structure).
A ``UnitSchedule`` is loaded once with a fixed number of queries and then answers in memory, so the
admin views, the iCalendar feeds, the coverage report and callout launch all see the same answer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from units.models import (
    SHIFT_UNIT_DELTAS,
    FixedRule,
    Membership,
    Override,
    Person,
    Rotation,
    RotationParticipant,
    Tier,
    Unavailability,
    Unit,
)


@dataclass(frozen=True)
class Reason:
    kind: str  # "rotation" | "override" | "fixed"
    source_id: int
    text: str


@dataclass(frozen=True)
class Entry:
    person: Person
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ResolvedTier:
    tier: Tier
    entries: tuple[Entry, ...]

    @property
    def people(self) -> list[Person]:
        return [entry.person for entry in self.entries]


@dataclass(frozen=True)
class Segment:
    """A window [start, end) during which every tier of the unit has the same entries."""

    start: datetime
    end: datetime
    tiers: tuple[ResolvedTier, ...]


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time skipped by a spring-forward change lands just after the change and an ambiguous autumn
    time takes its first occurrence, so successive handoffs never go backwards: no gap, no overlap.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


class RotationPlan:
    """The shifts of one rotation: shift k starts at the k-th handoff in the unit's wall-clock time."""

    def __init__(self, rotation: Rotation, participants: list[Person], tz: ZoneInfo):
        self.rotation = rotation
        self.participants = participants
        self.tz = tz
        self.step = SHIFT_UNIT_DELTAS[rotation.shift_unit] * rotation.shift_length
        self.origin = datetime.combine(rotation.start_date, rotation.handoff_time)
        self.starts = self.handoff(0)
        self.ends = (
            local_instant(rotation.end_date, rotation.handoff_time, tz) if rotation.end_date else None
        )
        self.weekdays = {int(day) for day in rotation.weekdays}
        self.reason = Reason("rotation", rotation.id, f"{rotation.name} rotation")

    def handoff(self, k: int) -> datetime:
        local = self.origin + self.step * k
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def shift_index(self, at: datetime) -> int:
        """The largest k whose handoff is at or before ``at``."""
        k = math.floor((at - self.starts) / self.step)
        while self.handoff(k) > at:
            k -= 1
        while self.handoff(k + 1) <= at:
            k += 1
        return k

    def on_call(self, at: datetime) -> Person | None:
        if not self.participants or at < self.starts or (self.ends and at >= self.ends):
            return None
        if self.weekdays != set(range(7)) and self.duty_day(at).weekday() not in self.weekdays:
            return None
        return self.participants[self.shift_index(at) % len(self.participants)]

    def duty_day(self, at: datetime) -> date:
        """The local day a moment belongs to, where days turn over at the handoff time, not at midnight."""
        local = at.astimezone(self.tz).replace(tzinfo=None)
        turnover = self.rotation.handoff_time
        return (local - timedelta(hours=turnover.hour, minutes=turnover.minute, seconds=turnover.second)).date()

    def change_points(self, start: datetime, end: datetime) -> set[datetime]:
        points = {self.starts}
        if self.ends:
            points.add(self.ends)
        first = max(start, self.starts)
        last = min(end, self.ends) if self.ends else end
        if first >= last:
            return points
        k = self.shift_index(first)
        while (handoff := self.handoff(k)) < last:
            points.add(handoff)
            k += 1
        if self.weekdays != set(range(7)):
            day = self.duty_day(first)
            while (turnover := local_instant(day, self.rotation.handoff_time, self.tz)) < last:
                points.add(turnover)
                day += timedelta(days=1)
        return points


class UnitSchedule:
    """Everything that decides a unit's lists within a window, held in memory."""

    def __init__(self, unit: Unit, start: datetime, end: datetime, tiers: list[Tier], *,
                 rotations: dict[int, list[RotationPlan]], overrides: dict[int, list[Override]],
                 fixed: dict[int, list[tuple[Reason, list[Person]]]], unavailability: dict[int, list[Unavailability]]):
        self.unit = unit
        self.start = start
        self.end = end
        self.tiers = tiers
        self.rotations = rotations
        self.overrides = overrides
        self.fixed = fixed
        self.unavailability = unavailability

    def resolve(self, at: datetime) -> tuple[ResolvedTier, ...]:
        if not self.start <= at < self.end:
            raise ValueError(f"{at} is outside the loaded window {self.start} – {self.end}")
        return tuple(ResolvedTier(tier, self._entries(tier, at)) for tier in self.tiers)

    def segments(self, start: datetime, end: datetime) -> list[Segment]:
        start, end = max(start, self.start), min(end, self.end)
        points = sorted(p for p in self._change_points(start, end) if start < p < end)
        bounds = [start, *points, end]
        segments: list[Segment] = []
        for seg_start, seg_end in zip(bounds, bounds[1:], strict=False):
            tiers = self.resolve(seg_start)
            if segments and segments[-1].tiers == tiers:
                segments[-1] = Segment(segments[-1].start, seg_end, tiers)
            else:
                segments.append(Segment(seg_start, seg_end, tiers))
        return segments

    def _entries(self, tier: Tier, at: datetime) -> tuple[Entry, ...]:
        listed: list[tuple[Person, Reason]] = []
        for plan in self.rotations.get(tier.id, ()):
            if person := plan.on_call(at):
                listed.append((person, plan.reason))
        for reason, people in self.fixed.get(tier.id, ()):
            listed.extend((person, reason) for person in people)
        for override in self.overrides.get(tier.id, ()):
            if override.starts_at <= at < override.ends_at:
                listed = apply_override(listed, override)
        return merge_entries(p for p in listed if p[0].active and not self._unavailable(p[0], at))

    def _unavailable(self, person: Person, at: datetime) -> bool:
        return any(u.starts_at <= at < u.ends_at for u in self.unavailability.get(person.id, ()))

    def _change_points(self, start: datetime, end: datetime) -> set[datetime]:
        points: set[datetime] = set()
        people: set[int] = set()
        for tier in self.tiers:
            for plan in self.rotations.get(tier.id, ()):
                points |= plan.change_points(start, end)
                people |= {person.id for person in plan.participants}
            for override in self.overrides.get(tier.id, ()):
                points |= {override.starts_at, override.ends_at}
                people |= {override.person_id, override.replaces_id}
            for _, members in self.fixed.get(tier.id, ()):
                people |= {person.id for person in members}
        for person_id in people:
            for span in self.unavailability.get(person_id, ()):
                points |= {span.starts_at, span.ends_at}
        return points


def apply_override(listed: list[tuple[Person, Reason]], override: Override) -> list[tuple[Person, Reason]]:
    note = f": {override.reason}" if override.reason else ""
    if override.replaces_id is None:
        return [*listed, (override.person, Reason("override", override.id, f"Added by override{note}"))]
    covering = Reason("override", override.id, f"Covering for {override.replaces}{note}")
    return [(override.person, covering) if person.id == override.replaces_id else (person, reason)
            for person, reason in listed]


def merge_entries(listed: Iterable[tuple[Person, Reason]]) -> tuple[Entry, ...]:
    """One entry per person, in order of first appearance, carrying every reason they are listed."""
    people: dict[int, Person] = {}
    reasons: dict[int, list[Reason]] = defaultdict(list)
    for person, reason in listed:
        people.setdefault(person.id, person)
        if reason not in reasons[person.id]:
            reasons[person.id].append(reason)
    return tuple(Entry(person, tuple(reasons[pid])) for pid, person in people.items())


def load_schedules(units: Iterable[Unit], start: datetime, end: datetime) -> dict[int, UnitSchedule]:
    """Load the schedules of many units for [start, end) in a fixed number of queries."""
    units = {unit.id: unit for unit in units}
    tiers = list(Tier.objects.filter(unit_id__in=units).order_by("unit_id", "position"))
    tier_unit = {tier.id: units[tier.unit_id] for tier in tiers}
    rotations = Rotation.objects.filter(tier__in=tiers).prefetch_related(
        Prefetch("participants", queryset=RotationParticipant.objects.select_related("person"))
    )
    overrides = (Override.objects.filter(tier__in=tiers, starts_at__lt=end, ends_at__gt=start)
                 .select_related("person", "replaces").order_by("starts_at", "id"))
    fixed_rules = FixedRule.objects.filter(tier__in=tiers).select_related("person", "tier")
    members = Membership.objects.filter(unit_id__in=units).select_related("person").order_by("person__full_name")

    plans, overrides_by_tier, fixed = defaultdict(list), defaultdict(list), defaultdict(list)
    for rotation in rotations:
        people = [slot.person for slot in rotation.participants.all()]
        plans[rotation.tier_id].append(RotationPlan(rotation, people, tier_unit[rotation.tier_id].tzinfo))
    for override in overrides:
        overrides_by_tier[override.tier_id].append(override)
    members_by_role = defaultdict(list)
    for membership in members:
        members_by_role[(membership.unit_id, membership.role)].append(membership.person)
    for rule in fixed_rules:
        if rule.person_id:
            fixed[rule.tier_id].append((Reason("fixed", rule.id, f"Always on {rule.tier.name}"), [rule.person]))
        else:
            reason = Reason("fixed", rule.id, f"{rule.get_role_display()}s always on {rule.tier.name}")
            fixed[rule.tier_id].append((reason, members_by_role[(rule.tier.unit_id, rule.role)]))

    unavailability = defaultdict(list)
    for span in Unavailability.objects.filter(starts_at__lt=end, ends_at__gt=start).order_by("starts_at"):
        unavailability[span.person_id].append(span)

    by_unit = defaultdict(list)
    for tier in tiers:
        by_unit[tier.unit_id].append(tier)
    return {
        unit_id: UnitSchedule(
            unit, start, end, by_unit[unit_id], rotations=plans, overrides=overrides_by_tier,
            fixed=fixed, unavailability=unavailability,
        )
        for unit_id, unit in units.items()
    }


def load_schedule(unit: Unit, start: datetime, end: datetime) -> UnitSchedule:
    return load_schedules([unit], start, end)[unit.id]


def resolve_callout_lists(unit: Unit, at: datetime) -> tuple[ResolvedTier, ...]:
    """The unit's ordered callout lists at ``at``, each person with the reasons they are on it."""
    return load_schedule(unit, at, at + timedelta(seconds=1)).resolve(at)
