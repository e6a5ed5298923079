"""The words each channel carries. Short for SMS and push, spoken for voice, with answer links for email."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

LINK_SALT = "callouts.respond"
# How every stand-down's text starts (the services write it; the timeline tells a stand-down from an update by it).
STAND_DOWN = "STAND DOWN"
UPDATE_SUFFIX = ": update"


def response_link(recipient_id: int, response: str) -> str:
    token = signing.dumps({"r": recipient_id, "a": response}, salt=LINK_SALT, compress=True)
    return f"{settings.SITE_URL}/respond/{token}/"


def update_text(subject: str, body: str) -> str:
    """An update's own words, without the callout's heading that ``compose`` put before them."""
    return body.removeprefix(f"{subject.removesuffix(UPDATE_SUFFIX)}: ")


def push_title(callout) -> str:
    """A push notification's title: the unit, which is what a locked phone may show besides the message."""
    return f"{'EXERCISE: ' if callout.exercise else ''}{callout.unit.name}"


def is_stand_down(subject: str, body: str) -> bool:
    """Whether an update's stored subject and body (as ``compose`` made them) carry a stand-down."""
    return body.startswith(f"{subject.removesuffix(UPDATE_SUFFIX)}: {STAND_DOWN}")


def compose(callout, channel: str, *, kind: str = "alert", text: str = "", recipient_id: int | None = None,
            ) -> tuple[str, str]:
    unit = callout.unit
    reference = f" [{callout.incident_ref}]" if callout.incident_ref else ""
    subject = f"{'DRILL ' if callout.exercise else ''}CALLOUT {unit.code.upper()}{reference}"
    if kind != "alert":
        return f"{subject}{UPDATE_SUFFIX}", f"{subject}: {text}"
    if channel == "voice":
        return subject, (f"This is Muster. {'This is a drill. ' if callout.exercise else ''}Callout for {unit.name}. "
                         f"{callout.message}")
    if channel == "email" and recipient_id is not None:
        return subject, (f"{callout.message}\n\nAccept: {response_link(recipient_id, 'accept')}\n"
                         f"Decline: {response_link(recipient_id, 'decline')}\n")
    if channel == "push":
        return subject, f"{callout.message} Open Muster to accept or decline."
    return subject, f"{subject}: {callout.message} Reply Y to accept (Y 15 = ETA 15 min) or N to decline."
