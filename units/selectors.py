"""Reads built on the schedule: shifts per person and per unit, coverage gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from units.models import Person, Tier, Unit
from units.schedule import Reason


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


def person_shifts(person: Person, start: datetime, end: datetime) -> list[Shift]:
    raise NotImplementedError


def unit_shifts(unit: Unit, start: datetime, end: datetime) -> list[Shift]:
    raise NotImplementedError


def coverage_gaps(start: datetime, end: datetime, units=None) -> list[Gap]:
    raise NotImplementedError
