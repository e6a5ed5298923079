"""The story of a callout, oldest first: every alert, update and stand-down handed to a provider, every answer and
every text the system could not understand, and what the operators and the engine did (escalations, the need met,
cancel, close), each with its time and, where there is one, its channel.

The engine's and operators' steps come from the callout's audit entries, so the timeline says exactly what the
audit log says; messages are grouped by list, channel and send (one line for "SMS alert to 200 people", not 200).
Built from the recipients ``live_callout`` loads (with deliveries, answers and replies prefetched) and one query
for the audit entries, whatever the callout's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from callouts.messages import is_stand_down
from callouts.models import Callout, Delivery, InboundReply, Recipient, ResponseRecord
from callouts.times import clock_time
from units.models import ContactMethod

GOOD, PROBLEM = "good", "problem"
ATTEMPTED = (Delivery.State.SENDING, Delivery.State.SENT, Delivery.State.DELIVERED, Delivery.State.FAILED)
# How answers' channels read beside the contact kinds: the app answers through the API.
CHANNEL_NAMES = {**dict(ContactMethod.Kind.choices), "app": "App"}
# The audit events the timeline tells (answers and replies not understood come from their own rows, which say more).
STEPS = ("callout_launched", "callout_escalated", "callout_exhausted", "callout_filled", "callout_reopened",
         "callout_people_added", "callout_resent", "callout_update", "callout_stand_down", "callout_cancelled",
         "callout_closed")
SHOWN_FAILURES = 5


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    detail: str = ""
    channel: str = ""
    person: str = ""
    by: str = ""
    tone: str = ""  # GOOD (green), PROBLEM (red) or plain
    # Among events at the same moment (one transaction, or a stopped test clock), cause before effect: the launch,
    # then answers, then what they led to (the need met, an escalation, a close), then the messages that sent.
    rank: int = 2


def callout_timeline(callout: Callout, recipients: list[Recipient]) -> list[Event]:
    """Everything that happened to ``callout``, oldest first. ``recipients`` are all of its recipients, with
    ``deliveries``, ``history`` (with actors) and ``inbound_replies`` prefetched."""
    events = [
        *step_events(callout, recipients),
        *delivery_events(recipients),
        *(answer_event(recipient, record) for recipient in recipients for record in recipient.history.all()),
        *(reply_event(recipient, reply) for recipient in recipients for reply in recipient.inbound_replies.all()
          if not reply.understood),
    ]
    return sorted(events, key=lambda event: (event.at, event.rank))


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


# What the engine and the operators did

def step_events(callout: Callout, recipients: list[Recipient]) -> list[Event]:
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Callout), object_pk=str(callout.pk),
        additional_data__event__in=STEPS,
    ).select_related("actor").order_by("timestamp", "id")
    lists = {r.tier_position: r.tier_name for r in recipients if not r.added_by_operator}
    names = {r.person_id: str(r.person) for r in recipients}
    events: list[Event] = []
    for entry in entries:
        event = step_event(entry, lists, names)
        if event.what == "Escalated" and events and events[-1].what == "Exhausted":
            # An escalation that found no list left is written just after the exhaustion it caused: one event,
            # saying why.
            exhausted = events.pop()
            cause, outcome = event.detail, exhausted.detail
            event = replace(exhausted, detail=f"{cause[0].upper()}{cause[1:]}; {outcome[0].lower()}{outcome[1:]}",
                            by=event.by)
        events.append(event)
    return events


def step_event(entry: LogEntry, lists: dict[int, str], names: dict[int, str]) -> Event:
    data, message = entry.additional_data, entry.changes_text
    event = data["event"]
    by = (entry.actor.get_full_name() or entry.actor.get_username()) if entry.actor else ""
    at = entry.timestamp
    if event == "callout_launched":
        return Event(at, "Launched", f"{data.get('recipients', 0)} people on its lists", by=by, rank=0)
    if event == "callout_escalated":
        cause = message.removeprefix("Escalated").lstrip(": ") or "by operator"
        moved = data.get("to_tier") != data.get("from_tier", -1)
        to = lists.get(data.get("to_tier")) if moved else None
        return Event(at, "Escalated", cause + (f": {to} alerted" if to else ""), by=by)
    if event == "callout_exhausted":
        return Event(at, "Exhausted", "Every list alerted and the need not met: phone round now", tone=PROBLEM)
    if event == "callout_filled":
        return Event(at, "Need met", "Filled", tone=GOOD)
    if event == "callout_reopened":
        return Event(at, "Need no longer met", "An accept was withdrawn", tone=PROBLEM)
    if event == "callout_people_added":
        added = ", ".join(names.get(person, "?") for person in data.get("people", []))
        return Event(at, "People added", added or "nobody new", by=by)
    if event == "callout_resent":
        return Event(at, "Resent", f"to those not answering ({data.get('deliveries', 0)} messages)",
                     channel=channel_name(data.get("channel", "")), by=by)
    if event in ("callout_update", "callout_stand_down"):
        what = "Update" if event == "callout_update" else "Stand-down"
        count = data.get("deliveries", 0)
        return Event(at, what, f"{message} ({count} message{'' if count == 1 else 's'}"
                               + (", by voice call too)" if data.get("by_voice") else ")"), by=by)
    what = "Cancelled" if event == "callout_cancelled" else "Closed"
    return Event(at, what, message, by=by)


# The messages handed to providers

def delivery_events(recipients: Iterable[Recipient]) -> list[Event]:
    """One event per send: a kind of message, to one list, by one channel."""
    sends: dict[tuple, list[tuple[Recipient, Delivery]]] = {}
    for recipient in recipients:
        for delivery in recipient.deliveries.all():
            if delivery.state in ATTEMPTED:
                # An alert goes to a list; an update to everyone who accepted, whichever list they were on.
                list_name = recipient.tier_name if delivery.kind == Delivery.Kind.ALERT else ""
                key = (delivery.kind, delivery.round, delivery.sequence, delivery.channel, list_name)
                sends.setdefault(key, []).append((recipient, delivery))
    return [send_event(key, sent) for key, sent in sends.items()]


def send_event(key: tuple, sent: list[tuple[Recipient, Delivery]]) -> Event:
    kind, round_, sequence, channel, list_name = key
    first = sent[0][1]
    failed = [(r, d) for r, d in sent if d.state == Delivery.State.FAILED]
    delivered = sum(d.state == Delivery.State.DELIVERED for _, d in sent)
    detail = f"to {len(sent)} on {list_name}" if list_name else f"to {len(sent)} {pluralize(len(sent))}"
    if round_ > 1 and kind == Delivery.Kind.ALERT:
        detail += f" (round {round_})"
    if delivered:
        detail += f"; {delivered} delivered"
    if failed:
        named = "; ".join(f"{r.person}: {d.error or 'failed'}" for r, d in failed[:SHOWN_FAILURES])
        more = f"; and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
        detail += f"; {len(failed)} failed ({named}{more})"
    at = min(d.sent_at or d.updated_at for _, d in sent)
    return Event(at, send_name(kind, sequence, first), detail, channel=channel_name(channel),
                 tone=PROBLEM if failed else "", rank=3)


def send_name(kind: str, sequence: int, delivery: Delivery) -> str:
    if kind == Delivery.Kind.ALERT:
        return "Alert sent" if sequence == 0 else "Alert resent"
    if sequence >= 900:  # the duty operators' alert when every list is exhausted (services.alert_operators)
        return "Operators alerted"
    return "Stand-down sent" if is_stand_down(delivery.subject, delivery.body) else "Update sent"


def pluralize(count: int) -> str:
    return "person" if count == 1 else "people"


# What came back

def answer_event(recipient: Recipient, record: ResponseRecord) -> Event:
    accepted = record.response == Recipient.Response.ACCEPT
    detail = ""
    if accepted and record.eta_minutes is not None:
        arrives = record.at + timedelta(minutes=record.eta_minutes)
        detail = f"ETA {record.eta_minutes} min, arrives ~{clock_time(arrives)}"
    if record.note:
        detail = f"{detail}; “{record.note}”" if detail else f"“{record.note}”"
    on_their_behalf = record.actor is not None and record.actor_id != recipient.person.user_id
    return Event(record.at, "Accepted" if accepted else "Declined", detail, channel=channel_name(record.channel),
                 person=str(recipient.person), by=str(record.actor) if on_their_behalf else "",
                 tone=GOOD if accepted else "", rank=1)


def reply_event(recipient: Recipient, reply: InboundReply) -> Event:
    return Event(reply.received_at, "Reply not understood", f"“{reply.body}”: they were sent how to answer",
                 channel=channel_name(reply.channel), person=str(recipient.person), tone=PROBLEM, rank=1)
