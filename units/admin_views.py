"""Duty views inside the admin; UnitAdmin.get_urls wraps them in admin_site.admin_view."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone

from units.models import Unit
from units.schedule import ResolvedTier, load_schedules
from units.selectors import NO_CONTACT, UNVERIFIED, coverage_gaps, unverified_people


@dataclass(frozen=True)
class OnCallRow:
    unit: Unit
    primary: ResolvedTier | None
    secondary: ResolvedTier | None
    further: tuple[ResolvedTier, ...]
    next_change: datetime | None  # when any of the unit's lists next changes, within the preview window


@dataclass(frozen=True)
class ContactFlags:
    """Who on the page has no verified way to be reached, for _entries.html to flag: ids of people with no contact
    method at all, and of people with methods none of which is verified."""

    none: frozenset[int]
    unverified: frozenset[int]

    @classmethod
    def of(cls, tiers: Iterable[ResolvedTier]) -> "ContactFlags":
        found = unverified_people(entry.person.id for resolved in tiers for entry in resolved.entries)
        return cls(frozenset(p for p, kind in found.items() if kind == NO_CONTACT),
                   frozenset(p for p, kind in found.items() if kind == UNVERIFIED))


def on_call_now(request):
    require_view_unit(request)
    now = timezone.now()
    end = now + timedelta(days=settings.SCHEDULE_PREVIEW_DAYS)
    units = list(Unit.objects.filter(active=True))
    schedules = load_schedules(units, now, end)
    rows = []
    for unit in units:
        tiers = schedules[unit.id].resolve(now)
        segments = schedules[unit.id].segments(now, end)
        next_change = segments[0].end if segments and segments[0].end < end else None
        rows.append(OnCallRow(unit, tier_at(tiers, 0), tier_at(tiers, 1), tiers[2:], next_change))
    everyone = [tier for row in rows for tier in (row.primary, row.secondary, *row.further) if tier]
    return render(request, "admin/units/on_call.html", "On call now", {
        "rows": rows, "now": now, "any_further": any(row.further for row in rows),
        "preview_days": settings.SCHEDULE_PREVIEW_DAYS, "contact": ContactFlags.of(everyone),
    })


def schedule_preview(request, unit_id):
    require_view_unit(request)
    unit = get_object_or_404(Unit, pk=unit_id)
    start = timezone.now()
    end = start + timedelta(days=settings.SCHEDULE_PREVIEW_DAYS)
    schedule = load_schedules([unit], start, end)[unit.id]
    segments = schedule.segments(start, end)
    context = {"unit": unit, "tiers": schedule.tiers, "segments": segments, "end": end,
               "contact": ContactFlags.of(tier for segment in segments for tier in segment.tiers)}
    return render(request, "admin/units/schedule_preview.html", f"Schedule of {unit}", context)


def coverage_gap_report(request):
    require_view_unit(request)
    start = timezone.now()
    end = start + timedelta(days=settings.SCHEDULE_PREVIEW_DAYS)
    context = {"gaps": coverage_gaps(start, end), "start": start, "end": end}
    return render(request, "admin/units/coverage_gaps.html", "Coverage gaps", context)


def require_view_unit(request):
    if not request.user.has_perm("units.view_unit"):
        raise PermissionDenied


def tier_at(tiers: tuple[ResolvedTier, ...], index: int) -> ResolvedTier | None:
    return tiers[index] if index < len(tiers) else None


def render(request, template, title, context):
    context = {**admin.site.each_context(request), "title": title, "opts": Unit._meta, **context}
    return TemplateResponse(request, template, context)
