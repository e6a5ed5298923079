"""The after-action report of a callout: its timeline, how fast it filled, who came by which channel, and who could
not be reached and why. Shown as a printable page and exported as CSV (callouts/admin_views.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from callouts.live import LiveCallout, PersonRow, clock, live_callout
from callouts.models import Delivery, Recipient
from callouts.services.callouts import OPERATOR_TIER
from callouts.timeline import Event, channel_name
from units.audit import audit_event
from units.spreadsheet import csv_cell


@dataclass(frozen=True)
class Answer:
    """Someone who answered, as they last answered."""

    person: str
    list_name: str
    channel: str
    at: datetime
    after: str  # since launch, m:ss
    eta_minutes: int | None
    stood_down: bool


@dataclass(frozen=True)
class Unreached:
    person: str
    list_name: str
    why: str


@dataclass
class AfterAction:
    live: LiveCallout

    @property
    def callout(self):
        return self.live.callout

    @property
    def timeline(self) -> list[Event]:
        return self.live.timeline

    @property
    def first_accept(self) -> str | None:
        """Launch to the first accept ever given (even one withdrawn later), m:ss."""
        accepts = [record.at for row in self.live.rows for record in row.recipient.history.all()
                   if record.response == Recipient.Response.ACCEPT]
        return self.since_launch(min(accepts)) if accepts else None

    @property
    def to_quorum(self) -> str | None:
        """Launch to the moment the need was first met, m:ss."""
        met = [event.at for event in self.timeline if event.what == "Need met"]
        return self.since_launch(met[0]) if met else None

    @property
    def came(self) -> list[Answer]:
        return self.answered(Recipient.Response.ACCEPT)

    @property
    def declined(self) -> list[Answer]:
        return self.answered(Recipient.Response.DECLINE)

    @property
    def by_channel(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for answer in self.came:
            counts[answer.channel] = counts.get(answer.channel, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def unreached(self) -> list[Unreached]:
        return [Unreached(str(row.recipient.person), row.recipient.tier_name, why_unreached(row))
                for row in self.live.rows
                if row.recipient.notified_at is not None and row.recipient.response == Recipient.Response.NONE
                and row.recipient.tier_position < OPERATOR_TIER]

    @property
    def not_alerted(self) -> int:
        """People on lists the callout never reached."""
        return sum(row.recipient.notified_at is None for row in self.live.rows)

    def answered(self, response: str) -> list[Answer]:
        return [
            Answer(person=str(r.person), list_name=r.tier_name, channel=channel_name(r.response_channel),
                   at=r.responded_at, after=self.since_launch(r.responded_at), eta_minutes=r.eta_minutes,
                   stood_down=r.stood_down)
            for r in sorted((row.recipient for row in self.live.rows if row.recipient.response == response),
                            key=lambda r: r.responded_at)
        ]

    def since_launch(self, moment: datetime) -> str:
        return clock(max(moment - self.callout.launched_at, timedelta()).total_seconds())


def after_action_read(*, callout_id: int, actor, remote_addr: str | None, export: bool) -> AfterAction:
    """The report of a callout for ``actor``, audited as read or exported: it shows the callout's content."""
    report = AfterAction(live_callout(callout_id))
    audit_event(event="after_action_exported" if export else "after_action_viewed", target=report.callout,
                actor=actor, remote_addr=remote_addr,
                message="After-action report exported as CSV" if export else "After-action report viewed")
    return report


def why_unreached(row: PersonRow) -> str:
    """Why an alerted person never answered, from what became of each alert to them."""
    alerts = [d for cell in row.cells if cell for d in cell.alerts]
    if not alerts:
        return "No way to reach them: no contact method when their list was alerted"
    failed = [d for d in alerts if d.state == Delivery.State.FAILED]
    reached = sorted({channel_name(d.channel) for d in alerts
                      if d.state in (Delivery.State.SENT, Delivery.State.DELIVERED, Delivery.State.SENDING)})
    failures = "; ".join(f"{channel_name(d.channel)} failed: {d.error or 'no reason given'}" for d in failed)
    if reached:
        return f"Alerted by {', '.join(reached)}; no answer" + (f" ({failures})" if failures else "")
    if failed:
        return f"Every message failed ({failures})"
    return "Alerts stopped before they were sent"


COLUMNS = ["section", "time", "what", "person", "by", "channel", "detail"]


def after_action_csv(report: AfterAction) -> str:
    """One table: the figures, everyone who answered or was not reached, then the timeline, oldest first."""
    callout = report.callout
    rows = [
        ["callout", callout.launched_at, "Launched", "", str(callout.launched_by), "",
         f"{callout.unit}; {callout.incident_ref}; {'EXERCISE; ' if callout.exercise else ''}{callout.message}"],
        ["callout", callout.closed_at, callout.get_state_display(), "", "", "", callout.outcome],
        ["figures", "", "Time to first accept", "", "", "", report.first_accept or "none"],
        ["figures", "", "Time to need met", "", "", "", report.to_quorum or "not met"],
        *(["accepted", a.at, "Accepted", a.person, "", a.channel,
           f"{a.list_name}; after {a.after}" + (f"; ETA {a.eta_minutes} min" if a.eta_minutes is not None else "")
           + ("; stood down" if a.stood_down else "")] for a in report.came),
        *(["declined", a.at, "Declined", a.person, "", a.channel, f"{a.list_name}; after {a.after}"]
          for a in report.declined),
        *(["unreached", "", "Not reached", u.person, "", "", f"{u.list_name}; {u.why}"] for u in report.unreached),
        *(["timeline", e.at, e.what, e.person, e.by, e.channel, e.detail] for e in report.timeline),
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(value.isoformat() if isinstance(value, datetime) else value) for value in row])
    return out.getvalue()
