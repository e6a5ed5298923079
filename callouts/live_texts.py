"""What the live page says about a callout's state, in words a dispatcher cannot misread at 3 a.m.: the banner, and
what "Escalate now" will do. ``callouts.live`` gathers the facts; this module words them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from callouts.models import Callout
from callouts.need import accepts
from callouts.times import console_time

if TYPE_CHECKING:
    from callouts.live import LiveCallout


@dataclass(frozen=True)
class Banner:
    """The callout's state as the full-width banner at the top of the live page says it; ``action`` links to the
    phone round when nobody is coming."""

    state: str
    label: str
    text: str
    action: str = ""


def banner(live: LiveCallout) -> Banner:
    callout, state = live.callout, live.callout.state
    label = callout.get_state_display().upper()
    accepted = f"{live.counts['accepted']} of {accepts(callout.frozen_need.quorum)}"
    if live.stood_down:
        accepted += f" ({live.stood_down} stood down)"
    if state == Callout.State.FILLED:
        return Banner(state, label, f"Need met: {live.need}. {live.counts['accepted']} accepted.")
    if state == Callout.State.EXHAUSTED:
        operators = " The duty operators have been alerted." if live.operators_alerted else ""
        return Banner(state, label, f"Not filled, and no list is left to alert: {accepted}.{operators}",
                      action=f"Phone round now: {people(len(live.phone_round))} not answering")
    if state in (Callout.State.CANCELLED, Callout.State.CLOSED):
        at = console_time(callout.closed_at, callout.unit)
        return Banner(state, label, f"{callout.get_state_display()} at {at}. Those who accepted were told to "
                      "stand down.")
    return Banner(state, label, f"Waiting for answers from {live.current_list or 'the list alerted'}: {accepted}. "
                  + after_this_list(live))


def after_this_list(live: LiveCallout) -> str:
    """What happens when the wait on this list runs out: the next list, a new round, or exhausted."""
    callout, upcoming = live.callout, live.next_list
    if callout.escalate_at is None:
        return ""
    at = console_time(callout.escalate_at, callout.unit)
    if upcoming is None:
        return f"This is the last list: unless the need is met by {at}, the callout is exhausted."
    if upcoming.round > callout.round:
        return f"Unless the need is met by {at}, round {upcoming.round} alerts {upcoming.name} again."
    return f"Unless the need is met by {at}, {upcoming.name} is alerted."


def escalate_what(live: LiveCallout) -> str:
    """What "Escalate now" does, in its box."""
    callout, upcoming = live.callout, live.next_list
    if callout.state != Callout.State.ACTIVE:
        return "Alert the next list without waiting."
    if upcoming is None:
        return "No list is left: this marks the callout exhausted" + (
            " and alerts the duty operators." if callout.frozen_policy.fallback_to_operators else ".")
    if upcoming.round > callout.round:
        return f"Start round {upcoming.round}: alert {upcoming.name} again without waiting."
    return f"Alert {upcoming.name} without waiting."


def escalate_confirm(live: LiveCallout) -> str:
    """What "Escalate now" asks before it acts: what it will do, named."""
    callout, upcoming = live.callout, live.next_list
    if callout.state != Callout.State.ACTIVE:
        return "Escalate now?"
    if upcoming is None:
        then = " and alerts the duty operators" if callout.frozen_policy.fallback_to_operators else ""
        return (f"{live.current_list or 'This'} is the last list. Escalating now stops waiting for it: the callout "
                f"becomes EXHAUSTED, not filled{then}. Escalate now?")
    if upcoming.round > callout.round:
        return f"Start round {upcoming.round} now: alert {upcoming.name} again without waiting?"
    return f"Alert {upcoming.name} now, without waiting for {live.current_list or 'this list'}?"


def people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"
