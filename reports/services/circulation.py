"""Circulation: a submitted report goes to the patrols on duty in its area and the duty supervisors.

An amendment is circulated again, marked UPDATED, only when it changes the grading or the area: those are what
decide who must know and how urgently; a corrected spelling is not worth a phone buzzing across a sector. The
update goes to whoever the new grading and area reach *and* to everyone an earlier circulation of the report
reached, so a patrol searching for a high-risk child hears when it is downgraded or found elsewhere; their
earlier notices not yet sent are cancelled, since they would only repeat what the update replaces.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from callouts.models import Delivery
from callouts.notices import LockScreen, notices_stop, notify_each
from reports.areas import area_descendants
from reports.models import Area, Circulation, CirculationPolicy, CirculationRecipient, Report, ReportVersion
from units.audit import acting, audit_event
from units.models import Person, Unit
from units.schedule import load_schedules

log = logging.getLogger(__name__)

Reach = CirculationPolicy.Reach
Reason = CirculationRecipient.Reason
RISK_LEVELS = {"low", "medium", "high"}


def circulation_reach(*, report_type, grading: str) -> str:
    """The policy for the type and grading, else the type's any-grading policy, else the area's patrols."""
    policies = {p.grading: p.reach for p in CirculationPolicy.objects.filter(report_type=report_type,
                                                                                grading__in=[grading, ""])}
    return policies.get(grading, policies.get("", Reach.AREA))


def circulate(*, version: ReportVersion, now: datetime) -> Circulation | None:
    """Alert whoever the policy reaches about this version; running it twice changes nothing."""
    report = version.report
    if Circulation.objects.filter(report=report, version=version.number).exists():
        return None
    previous = earlier_version(version)
    if previous is not None and (previous.grading, previous.area_id) == (version.grading, version.area_id):
        return None
    reach = circulation_reach(report_type=report.report_type, grading=version.grading)
    earlier = earlier_recipients(report)
    if reach == Reach.NONE and not earlier:
        return None
    if version.area is None:
        log.warning("Report %s version %s has no area: circulated to nobody; it waits in the review queue",
                    report.pk, version.number)
    recipients = {**earlier, **duty_people(area=version.area, reach=reach, now=now)}
    for author in authors(version):
        recipients.pop(author, None)  # they know: they wrote it
    with transaction.atomic():
        circulation = Circulation.objects.create(report=report, version=version.number, area=version.area,
                                                 reach=reach, summary=version_summary(version) or str(report.pk),
                                                 created_at=now)
        rows = CirculationRecipient.objects.bulk_create(
            CirculationRecipient(circulation=circulation, person=person, reason=reason)
            for person, reason in recipients.values())
        superseded_notices_stop(report=report, circulation=circulation, people=[row.person for row in rows])
        subject, body = notice_text(version=version, updated=previous is not None)
        notify_each(topics={row.person_id: row.topic for row in rows}, subject=subject, body=body,
                    lock_screen=lock_screen(version=version, updated=previous is not None),
                    report=report, report_version=version.number, now=now)
        audit_event(event="report_circulated", target=report,
                    message=f"Version {version.number} circulated to {len(rows)}",
                    data={"version": version.number, "reach": reach, "area": version.area_id,
                          "updated": previous is not None,
                          "patrols": sum(row.reason == Reason.PATROL for row in rows),
                          "supervisors": sum(row.reason == Reason.SUPERVISOR for row in rows)})
    return circulation


def authors(version: ReportVersion) -> set[int]:
    """The report's author and whoever wrote this version (a supervisor's re-grade, say)."""
    writer = Person.objects.filter(user_id=version.author_id).values_list("pk", flat=True).first()
    return {version.report.author_id, writer} - {None}


def earlier_version(version: ReportVersion) -> ReportVersion | None:
    return (ReportVersion.objects.filter(report_id=version.report_id, number__lt=version.number)
            .order_by("-number").first())


def earlier_recipients(report: Report) -> dict[int, tuple[Person, str]]:
    rows = (CirculationRecipient.objects.filter(circulation__report=report).select_related("person")
            .order_by("circulation__created_at", "id"))
    return {row.person_id: (row.person, row.reason) for row in rows}


def duty_people(*, area: Area | None, reach: str, now: datetime) -> dict[int, tuple[Person, str]]:
    """Who is on duty for this reach: the primary lists of the patrol and supervisor units concerned."""
    if area is None or reach == Reach.NONE:
        return {}
    sector = area.parent if area.kind == Area.Kind.BEAT and area.parent_id else area
    supervisor_units = {a.supervisor_unit_id for a in (area, sector) if a.supervisor_unit_id}
    # A report placed in a sector but in none of its beats reaches the sector's own patrols and its beats'.
    patrolled = {Reach.SUPERVISORS: [], Reach.AREA: area_descendants(area),
                 Reach.SECTOR: area_descendants(sector)}[reach]
    patrol_units = {a.patrol_unit_id for a in patrolled if a.patrol_unit_id}
    on_duty = primary_lists(patrol_units | supervisor_units, now)
    people = {p.pk: (p, Reason.PATROL) for unit in patrol_units for p in on_duty.get(unit, [])}
    people.update({p.pk: (p, Reason.SUPERVISOR) for unit in supervisor_units for p in on_duty.get(unit, [])})
    return {pk: entry for pk, entry in people.items() if entry[0].active}


def primary_lists(unit_ids: set[int], now: datetime) -> dict[int, list[Person]]:
    """Each unit's primary list at ``now``: the people on duty."""
    schedules = load_schedules(Unit.objects.filter(pk__in=unit_ids), now, now + timedelta(seconds=1))
    lists = {}
    for unit_id, schedule in schedules.items():
        primary = next((tier for tier in schedule.resolve(now) if tier.tier.position == 1), None)
        lists[unit_id] = primary.people if primary else []
    return lists


def superseded_notices_stop(*, report: Report, circulation: Circulation, people: list[Person]) -> None:
    topics = [row.topic for row in CirculationRecipient.objects.filter(circulation__report=report, person__in=people)
              .exclude(circulation=circulation)]
    Delivery.objects.filter(topic__in=topics, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now())


def notice_text(*, version: ReportVersion, updated: bool) -> tuple[str, str]:
    report = version.report
    label = grading_label(version.grading)
    area = area_label(version.area)
    subject = f"{'UPDATED: ' if updated else ''}{label + ' ' if label else ''}{report.report_type.name.lower()}" \
              f" — {area}"
    data = version.data if isinstance(version.data, dict) else {}
    last_seen = ", ".join(str(data[field]) for field in ("last_seen_place", "last_seen_at") if data.get(field))
    lines = [
        f"UPDATED (version {version.number}): {version.reason}" if updated else "",
        version_summary(version),
        f"Grading: {version.grading}" if version.grading else "",
        f"Area: {area}",
        f"Last seen: {last_seen}" if last_seen else "",
        report_link(report),
    ]
    return subject, "\n".join(line for line in lines if line)


def lock_screen(*, version: ReportVersion, updated: bool) -> LockScreen:
    """The circulation as a locked phone shows it: the report's type, grading and area, no name or description."""
    lines = [f"Grading: {version.grading}" if version.grading else "", f"Area: {area_label(version.area)}"]
    return LockScreen(title=f"{'UPDATED: ' if updated else ''}{version.report.report_type.name}",
                      body=" · ".join(line for line in lines if line))


def version_summary(version: ReportVersion) -> str:
    """The summary of this version's content: a later amendment must not change what an earlier one said."""
    from reports.services.filing import summary

    data = version.data if isinstance(version.data, dict) else {}
    return summary(data, version.type_version.summary_fields)


def grading_label(grading: str) -> str:
    label = grading.replace("-", " ").upper()
    return f"{label} RISK" if grading in RISK_LEVELS else label


def area_label(area: Area | None) -> str:
    if area is None:
        return "no area"
    kind = area.get_kind_display()
    return area.name if area.name.lower().startswith(kind.lower()) else f"{kind} {area.name}"


def report_link(report: Report) -> str:
    """Where the app opens the report (the report's API address, which the app is registered to handle)."""
    return f"{settings.SITE_URL}/api/v1/reports/{report.pk}/"


def circulation_acknowledge(*, recipient: CirculationRecipient, actor) -> CirculationRecipient:
    """The person has read it: recorded once, and their notices not yet sent for it are stopped."""
    with transaction.atomic(), acting(actor):
        recipient = (CirculationRecipient.objects.select_for_update().select_related("circulation__report", "person")
                     .get(pk=recipient.pk))
        if recipient.acknowledged_at is not None:
            return recipient
        recipient.acknowledged_at = timezone.now()
        recipient.save(update_fields=["acknowledged_at"])
        stopped = notices_stop(person=recipient.person, topic=recipient.topic)
        circulation = recipient.circulation
        audit_event(event="circulation_acknowledged", target=circulation.report, actor=actor,
                    message=f"{recipient.person} acknowledged version {circulation.version}",
                    data={"circulation": circulation.pk, "version": circulation.version,
                          "person": recipient.person_id, "notices_stopped": stopped})
    return recipient
