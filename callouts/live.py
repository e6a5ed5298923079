"""Read-only views of callouts for the operators' console: the live page and the list of callouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from callouts.clock import db_now
from callouts.health import clock_problems, timer_problems
from callouts.models import Callout, Delivery, Recipient
from callouts.selectors import overdue_problems
from units.models import ContactMethod, Membership


@dataclass
class ChannelCell:
    channel: str
    label: str
    deliveries: list[Delivery]

    @property
    def latest(self) -> Delivery:
        return self.deliveries[-1]

    @property
    def history(self) -> str:
        return "; ".join(
            f"{d.get_kind_display()} round {d.round}: {d.state} {timezone.localtime(d.sent_at or d.due_at):%H:%M:%S}"
            + (f" ({d.error})" if d.error else "")
            for d in self.deliveries
        )


@dataclass
class PersonRow:
    recipient: Recipient
    cells: list[ChannelCell | None]

    @property
    def details(self) -> str:
        """Role (unless a plain member) and qualifications, as frozen at launch."""
        role = self.recipient.role
        shown = [Membership.Role(role).label] if role in Membership.Role.values and role != "member" else []
        return ", ".join(shown + self.recipient.qualifications)


@dataclass
class TierGroup:
    position: int
    name: str
    alerted: bool
    current: bool
    rows: list[PersonRow] = field(default_factory=list)


@dataclass
class LiveCallout:
    callout: Callout
    now: datetime
    channels: list[tuple[str, str]]
    tiers: list[TierGroup]
    counts: dict[str, int]

    @property
    def need(self) -> str:
        return self.callout.frozen_need.describe()

    @property
    def since_launch(self) -> str:
        return clock((self.now - self.callout.launched_at).total_seconds())

    @property
    def until_escalation(self) -> str:
        left = (self.callout.escalate_at - self.now).total_seconds()
        return clock(left) if left >= 0 else f"overdue by {clock(-left)}"


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour; the live page's script counts on in the same format."""
    minutes, second = divmod(int(seconds), 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour}:{minute:02}:{second:02}" if hour else f"{minute}:{second:02}"


def with_counts(callouts: QuerySet[Callout]) -> QuerySet[Callout]:
    """Callouts with their answers counted, their current list named and ``open_first`` to order by."""
    current_list = Recipient.objects.filter(callout=OuterRef("pk"), tier_position=OuterRef("current_tier"))
    return callouts.annotate(
        open_first=Case(When(state__in=Callout.OPEN_STATES, then=Value(0)), default=Value(1),
                        output_field=IntegerField()),
        accepted=Count("recipients", filter=Q(recipients__response=Recipient.Response.ACCEPT)),
        declined=Count("recipients", filter=Q(recipients__response=Recipient.Response.DECLINE)),
        silent=Count("recipients", filter=Q(recipients__response=Recipient.Response.NONE,
                                            recipients__notified_at__isnull=False)),
        current_list=Subquery(current_list.values("tier_name")[:1]),
    )


def live_callout(callout_id: int) -> LiveCallout:
    """A callout with everyone on it and every delivery to them, in three queries whatever its size."""
    callout = Callout.objects.select_related("unit", "launched_by").get(pk=callout_id)
    recipients = list(
        callout.recipients.select_related("person").prefetch_related("deliveries").order_by("tier_position", "id")
    )
    used = {d.channel for r in recipients for d in r.deliveries.all()}
    channels = [(kind, label) for kind, label in ContactMethod.Kind.choices if kind in used]
    # People added by hand share the current list's position but are shown as a group of their own.
    tiers: dict[tuple[int, str], TierGroup] = {}
    for recipient in recipients:
        key = (recipient.tier_position, recipient.tier_name)
        if key not in tiers:
            tiers[key] = TierGroup(position=recipient.tier_position, name=recipient.tier_name, alerted=False,
                                   current=recipient.tier_position == callout.current_tier)
        group = tiers[key]
        group.alerted = group.alerted or recipient.notified_at is not None
        group.rows.append(PersonRow(recipient, cells_for(recipient, channels)))
    return LiveCallout(callout=callout, now=db_now(), channels=channels, tiers=list(tiers.values()),
                       counts=count_answers(recipients))


def cells_for(recipient: Recipient, channels: list[tuple[str, str]]) -> list[ChannelCell | None]:
    by_channel: dict[str, list[Delivery]] = {}
    for delivery in sorted(recipient.deliveries.all(), key=lambda d: (d.due_at, d.id)):
        by_channel.setdefault(delivery.channel, []).append(delivery)
    return [ChannelCell(kind, label, by_channel[kind]) if kind in by_channel else None for kind, label in channels]


def count_answers(recipients: list[Recipient]) -> dict[str, int]:
    counts = {"accepted": 0, "declined": 0, "silent": 0, "waiting": 0}
    for recipient in recipients:
        if recipient.response == Recipient.Response.ACCEPT:
            counts["accepted"] += 1
        elif recipient.response == Recipient.Response.DECLINE:
            counts["declined"] += 1
        elif recipient.notified_at:
            counts["silent"] += 1
        else:
            counts["waiting"] += 1
    return counts


def as_json(live: LiveCallout) -> dict:
    callout = live.callout
    return {
        "id": callout.pk,
        "state": callout.state,
        "state_label": callout.get_state_display(),
        "is_open": callout.is_open,
        "now": live.now.isoformat(),
        "launched_at": callout.launched_at.isoformat(),
        "escalate_at": callout.escalate_at.isoformat() if callout.escalate_at else None,
        "current_tier": callout.current_tier,
        "round": callout.round,
        "need": live.need,
        "counts": live.counts,
        "tiers": [
            {"position": t.position, "name": t.name, "alerted": t.alerted, "current": t.current,
             "people": [person_json(row) for row in t.rows]}
            for t in live.tiers
        ],
    }


def person_json(row: PersonRow) -> dict:
    recipient = row.recipient
    return {
        "recipient": recipient.pk,
        "name": str(recipient.person),
        "role": recipient.role,
        "qualifications": recipient.qualifications,
        "notified_at": recipient.notified_at.isoformat() if recipient.notified_at else None,
        "response": recipient.response,
        "eta_minutes": recipient.eta_minutes,
        "note": recipient.note,
        "response_channel": recipient.response_channel,
        "responded_at": recipient.responded_at.isoformat() if recipient.responded_at else None,
        "channels": {
            cell.channel: [
                {"kind": d.kind, "state": d.state, "round": d.round, "due_at": d.due_at.isoformat(),
                 "sent_at": d.sent_at.isoformat() if d.sent_at else None, "error": d.error}
                for d in cell.deliveries
            ]
            for cell in row.cells if cell
        },
    }


def console_problems() -> list[str]:
    """Stopped timers, the watchdog's findings and skewed clocks, for the red banner of the admin."""
    now = db_now()
    return [*timer_problems(now), *overdue_problems(now), *clock_problems(now)]
