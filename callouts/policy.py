"""A unit's escalation policy as a callout runs on it: the waits, moves and fallback frozen at launch, whatever
happens to the policy afterwards (``EscalationPolicy.snapshot()`` makes it; the need is frozen apart, as a Need).

``PolicySnapshot.to_json()`` writes version 2: ``{"version": 2, "waits": {"1": 300}, "default_wait": 300,
"move_on_when_hopeless": true, "repeat_count": 0, "fallback_to_operators": true}`` (waits in seconds, per list
position). Version 1, written before versions were, is the same without ``"version"``; ``from_json()`` reads
both, and rows are never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class PolicySnapshot:
    default_wait: int
    move_on_when_hopeless: bool
    repeat_count: int
    fallback_to_operators: bool
    waits: dict[int, int] = field(default_factory=dict)  # list position → seconds to wait on that list

    VERSION: ClassVar[int] = 2

    def wait_seconds(self, position: int) -> int:
        return self.waits.get(position, self.default_wait)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "waits": {str(position): wait for position, wait in self.waits.items()},
                "default_wait": self.default_wait, "move_on_when_hopeless": self.move_on_when_hopeless,
                "repeat_count": self.repeat_count, "fallback_to_operators": self.fallback_to_operators}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicySnapshot:
        version = data.get("version", 1)
        if version not in (1, 2):
            raise ValueError(f"A policy of version {version} is newer than this code reads (up to {cls.VERSION}).")
        return cls(waits={int(position): wait for position, wait in data["waits"].items()},
                   default_wait=data["default_wait"], move_on_when_hopeless=data["move_on_when_hopeless"],
                   repeat_count=data["repeat_count"], fallback_to_operators=data["fallback_to_operators"])
