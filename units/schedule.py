"""Who is on each callout list of a unit, at an instant or over a window.

Precedence, strongest first: unavailability (out of every list), overrides (replace or add),
rotations (participants take turns in the unit's wall-clock time), fixed rules (reporting structure).
A ``UnitSchedule`` is loaded once with a fixed number of queries and then answers in memory, so the
admin views, the iCalendar feeds, the coverage report and callout launch all see the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from units.models import Person, Tier, Unit


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


class UnitSchedule:
    def __init__(self, unit: Unit, start: datetime, end: datetime):
        raise NotImplementedError

    def resolve(self, at: datetime) -> tuple[ResolvedTier, ...]:
        raise NotImplementedError

    def segments(self, start: datetime, end: datetime) -> list[Segment]:
        raise NotImplementedError


def load_schedules(units: Iterable[Unit], start: datetime, end: datetime) -> dict[int, UnitSchedule]:
    raise NotImplementedError


def resolve_callout_lists(unit: Unit, at: datetime) -> tuple[ResolvedTier, ...]:
    raise NotImplementedError
