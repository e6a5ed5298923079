"""Times as the console shows them: 24-hour, in the operator's zone (the TIME_ZONE setting), with the unit's own
time and zone beside it when the unit's clocks read differently at that moment."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from units.models import Unit


def clock_time(moment: datetime, *, seconds: bool = False) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S" if seconds else "%H:%M")


def unit_time(moment: datetime, unit: Unit) -> str | None:
    """``11:00 BST``: the unit's wall clock at ``moment`` with its zone; None when it reads as the operator's."""
    here, there = timezone.localtime(moment), moment.astimezone(unit.tzinfo)
    if here.utcoffset() == there.utcoffset():
        return None
    return f"{there:%H:%M} {there.tzname()}"


def console_time(moment: datetime, unit: Unit | None = None, *, seconds: bool = False) -> str:
    """``10:00``, or ``10:00 (unit 11:00 BST)`` for a unit whose clocks read otherwise."""
    text = clock_time(moment, seconds=seconds)
    other = unit_time(moment, unit) if unit is not None else None
    return f"{text} (unit {other})" if other else text


def console_date_time(moment: datetime, unit: Unit | None = None) -> str:
    """``3 Jun 2026 10:00``, with the unit's time as ``console_time`` gives it."""
    here = timezone.localtime(moment)
    return f"{here.day} {here:%b %Y} {console_time(moment, unit)}"
