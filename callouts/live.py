"""Read-only views of callouts for the operators' console: the live page and the list of callouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import phonenumbers
from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from callouts import live_texts
from callouts.clock import db_now
from callouts.health import clock_problems, timer_problems
from callouts.live_texts import Banner
from callouts.models import Callout, Delivery, InboundReply, Recipient, ResponseRecord
from callouts.selectors import overdue_problems
from callouts.services.callouts import OPERATOR_TIER, next_list
from callouts.timeline import Event, callout_timeline
from callouts.times import clock_time
from units.models import ContactMethod, Membership

# The live page shows the newest events; the after-action report has them all.
LIVE_TIMELINE_EVENTS = 30


@dataclass
class ChannelCell:
    """One person's messages by one channel: the alert's own state first, the updates beside it."""

    channel: str
    label: str
    deliveries: list[Delivery]

    @property
    def alerts(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.kind == Delivery.Kind.ALERT]

    @property
    def updates(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.kind == Delivery.Kind.UPDATE]

    @property
    def latest(self) -> Delivery | None:
        """The latest alert by this channel; None when the channel carried only updates."""
        alerts = self.alerts
        return alerts[-1] if alerts else None

    @property
    def history(self) -> str:
        return "; ".join(
            f"{d.get_kind_display()} round {d.round}: {d.state} {clock_time(d.sent_at or d.due_at, seconds=True)}"
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

    @property
    def phones(self) -> list[tuple[str, str]]:
        """The person's phone numbers, each once, as (E.164 for a tel: link, as written for reading)."""
        numbers = dict.fromkeys(m.address for m in self.recipient.person.contact_methods.all()
                                if m.kind in ContactMethod.PHONE_KINDS)
        return [(number, readable_phone(number)) for number in numbers]

    @property
    def updates(self) -> list[Delivery]:
        return sorted((d for cell in self.cells if cell for d in cell.updates), key=lambda d: (d.due_at, d.id))

    @property
    def last_update_at(self) -> datetime | None:
        updates = self.updates
        return updates[-1].due_at if updates else None

    @property
    def arrives_at(self) -> datetime | None:
        """When someone who accepted with an ETA said they would be there."""
        recipient = self.recipient
        if recipient.response != Recipient.Response.ACCEPT or recipient.eta_minutes is None or recipient.stood_down:
            return None
        return recipient.responded_at + timedelta(minutes=recipient.eta_minutes)

    @property
    def stand_down_untold(self) -> bool:
        """Stood down, but no message was made for them (a voice call was their only way and was not asked for)."""
        stood_down_at = self.recipient.stood_down_at
        return self.recipient.stood_down and not any(d.due_at >= stood_down_at for d in self.updates)

    @property
    def unread_reply(self) -> InboundReply | None:
        """The latest text from them the system could not understand, unless they have answered since."""
        replies = [reply for reply in self.recipient.inbound_replies.all() if not reply.understood]
        answered_at = self.recipient.responded_at
        if replies and (answered_at is None or replies[-1].received_at > answered_at):
            return replies[-1]
        return None

    @property
    def not_answering(self) -> bool:
        recipient = self.recipient
        return (recipient.notified_at is not None and recipient.response == Recipient.Response.NONE
                and recipient.tier_position < OPERATOR_TIER)

    @property
    def unreachable(self) -> bool:
        """Every alert to them failed for good: only a phone call by hand can reach them now."""
        states = {d.state for cell in self.cells if cell for d in cell.alerts}
        return Delivery.State.FAILED in states and states <= {Delivery.State.FAILED, Delivery.State.CANCELLED}


def readable_phone(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, None)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return number


@dataclass
class TierGroup:
    position: int
    name: str
    alerted: bool
    current: bool
    rows: list[PersonRow] = field(default_factory=list)


@dataclass(frozen=True)
class NextList:
    """What the next escalation alerts: a list by name, in this round or the next."""

    name: str
    round: int


@dataclass
class LiveCallout:
    callout: Callout
    now: datetime
    channels: list[tuple[str, str]]
    tiers: list[TierGroup]
    counts: dict[str, int]
    next_list: NextList | None = None
    timeline: list[Event] = field(default_factory=list)

    @property
    def need(self) -> str:
        return self.callout.frozen_need.describe()

    @property
    def since_launch(self) -> str:
        return clock((self.now - self.callout.launched_at).total_seconds())

    @property
    def until_escalation(self) -> str:
        left = (self.callout.escalate_at - self.now).total_seconds()
        return f"in {clock(left)}" if left >= 0 else f"overdue by {clock(-left)}"

    @property
    def latest_events(self) -> list[Event]:
        """The timeline's newest events first, as many as the live page shows."""
        return self.timeline[::-1][:LIVE_TIMELINE_EVENTS]

    @property
    def rows(self) -> list[PersonRow]:
        return [row for tier in self.tiers for row in tier.rows]

    @property
    def stood_down(self) -> int:
        return sum(row.recipient.stood_down for row in self.rows)

    @property
    def phone_round(self) -> list[PersonRow]:
        """Everyone alerted who has not answered, in list order and then their place on it: whom to phone."""
        return [row for row in self.rows if row.not_answering] if self.callout.is_open else []

    @property
    def current_list(self) -> str:
        callout = self.callout
        names = [t.name for t in self.tiers if t.position == callout.current_tier and t.position < OPERATOR_TIER]
        return names[0] if names else ""

    @property
    def operators_alerted(self) -> bool:
        return any(tier.position >= OPERATOR_TIER for tier in self.tiers)

    @property
    def banner(self) -> Banner:
        return live_texts.banner(self)

    @property
    def escalate_what(self) -> str:
        return live_texts.escalate_what(self)

    @property
    def escalate_confirm(self) -> str:
        return live_texts.escalate_confirm(self)


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
    """A callout with everyone on it, their phone numbers, every delivery to them, every answer and reply, and its
    timeline, in eight queries whatever its size."""
    callout = Callout.objects.select_related("unit", "launched_by").get(pk=callout_id)
    recipients = list(
        callout.recipients.select_related("person").prefetch_related(
            "deliveries", "person__contact_methods", "inbound_replies",
            Prefetch("history", queryset=ResponseRecord.objects.select_related("actor")),
        ).order_by("tier_position", "id")
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
                       counts=count_answers(recipients), next_list=upcoming(callout, recipients),
                       timeline=callout_timeline(callout, recipients))


def upcoming(callout: Callout, recipients: list[Recipient]) -> NextList | None:
    """The list the next escalation of an active callout alerts, as the escalation itself decides it."""
    if callout.state != Callout.State.ACTIVE:
        return None
    found = next_list(callout, (r.tier_position for r in recipients))
    if found is None:
        return None
    round_, position = found
    on_it = [r for r in recipients if r.tier_position == position]
    named = next((r for r in on_it if not r.added_by_operator), on_it[0])
    return NextList(name=named.tier_name, round=round_)


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


def as_json(live: LiveCallout, *, phones: bool) -> dict:
    """The live page's facts; people's phone numbers only for a viewer who may see contact methods."""
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
        "banner": {"label": live.banner.label, "text": live.banner.text, "action": live.banner.action},
        "next_list": {"name": live.next_list.name, "round": live.next_list.round} if live.next_list else None,
        "phone_round": [row.recipient.pk for row in live.phone_round],
        "tiers": [
            {"position": t.position, "name": t.name, "alerted": t.alerted, "current": t.current,
             "people": [person_json(row, phones=phones) for row in t.rows]}
            for t in live.tiers
        ],
    }


def person_json(row: PersonRow, *, phones: bool) -> dict:
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
        "arrives_at": row.arrives_at.isoformat() if row.arrives_at else None,
        "stood_down_at": recipient.stood_down_at.isoformat() if recipient.stood_down else None,
        "phones": [number for number, _ in row.phones] if phones else None,
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
