"""What a text reply to a callout alert means: ``Y``, ``Y 15`` (ETA 15 minutes) or ``N``, in any case."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_ETA_MINUTES = 600

ACCEPT = re.compile(r"(?:Y|YES|ACCEPT)(?:[\s,]*(?P<eta>[0-9]{1,3})\s*(?:M|MIN|MINS|MINUTE|MINUTES)?)?")
DECLINE = re.compile(r"N|NO|DECLINE")
EDGES = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class Reply:
    response: Literal["accept", "decline"]
    eta_minutes: int | None = None


def parse_sms_reply(text: str) -> Reply | None:
    """The answer a text gives, or None when it is not one we understand (the sender then gets help)."""
    words = EDGES.sub("", text).upper()
    if DECLINE.fullmatch(words):
        return Reply("decline")
    accept = ACCEPT.fullmatch(words)
    if not accept:
        return None
    if accept["eta"] is None:
        return Reply("accept")
    eta = int(accept["eta"])
    return Reply("accept", eta) if eta <= MAX_ETA_MINUTES else None
