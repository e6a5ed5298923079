"""Duty views inside the admin; UnitAdmin.get_urls wraps them in admin_site.admin_view."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone

from units.models import Unit
from units.schedule import ResolvedTier, load_schedules
from units.selectors import coverage_gaps


@dataclass(frozen=True)
class OnCallRow:
    unit: Unit
    primary: ResolvedTier | None
    secondary: ResolvedTier | None
    further: tuple[ResolvedTier, ...]


def on_call_now(request):
    require_view_unit(request)
    now = timezone.now()
    units = list(Unit.objects.filter(active=True))
    schedules = load_schedules(units, now, now + timedelta(seconds=1))
    rows = []
    for unit in units:
        tiers = schedules[unit.id].resolve(now)
        rows.append(OnCallRow(unit, tier_at(tiers, 0), tier_at(tiers, 1), tiers[2:]))
    return render(request, "admin/units/on_call.html", "On call now", {
        "rows": rows, "now": now, "any_further": any(row.further for row in rows),
        "preview_days": settings.SCHEDULE_PREVIEW_DAYS,
    })


def schedule_preview(request, unit_id):
    require_view_unit(request)
    unit = get_object_or_404(Unit, pk=unit_id)
    start = timezone.now()
    end = start + timedelta(days=settings.SCHEDULE_PREVIEW_DAYS)
    schedule = load_schedules([unit], start, end)[unit.id]
    context = {"unit": unit, "tiers": schedule.tiers, "segments": schedule.segments(start, end), "end": end}
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
