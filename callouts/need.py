"""What "the unit's need is met" means: a quorum of accepts, and enough of each required role or qualification.

A ``Need`` is frozen on the callout at launch and is the one type the services, the admin's launch form, the
API and the live page use, so no part of it can be dropped on the way. Stored as JSON by ``to_json()``:

- version 2: ``{"version": 2, "quorum": 4, "requirements": [{"role": "team_leader", "count": 1},
  {"qualification": "medic", "count": 2}]}``;
- version 1 (callouts launched before versions were written): the same without ``"version"``, and
  ``"requirements"`` and a requirement's ``"count"`` (1) could be left out.

``from_json()`` reads both; rows are never rewritten, since a frozen need is a record of what was asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

ROLE, QUALIFICATION = "role", "qualification"
MAX_QUORUM = 100
MAX_REQUIREMENTS = 10


class Candidate(Protocol):
    role: str
    qualifications: list[str]


@dataclass(frozen=True)
class Requirement:
    """At least ``count`` of the accepts hold this role, or this qualification (by code)."""

    kind: Literal["role", "qualification"]
    code: str
    count: int = 1

    def __post_init__(self):
        if self.kind not in (ROLE, QUALIFICATION):
            raise ValueError(f"A requirement is a role or a qualification, not {self.kind!r}.")

    @property
    def key(self) -> str:
        """``role:team_leader``, ``qualification:medic``: what the launch form's choice holds."""
        return f"{self.kind}:{self.code}"

    @property
    def label(self) -> str:
        return self.code.replace("_", " ")

    def matches(self, candidate: Candidate) -> bool:
        if self.kind == ROLE:
            return candidate.role == self.code
        return self.code in candidate.qualifications

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.code, "count": self.count}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Requirement:
        kind = ROLE if ROLE in data else QUALIFICATION
        return cls(kind=kind, code=data[kind], count=data.get("count", 1))

    @classmethod
    def from_key(cls, key: str, count: int) -> Requirement:
        kind, _, code = key.partition(":")
        return cls(kind=kind, code=code, count=count)


@dataclass(frozen=True)
class Need:
    quorum: int
    requirements: tuple[Requirement, ...] = ()

    VERSION: ClassVar[int] = 2

    def problems(self) -> list[str]:
        """Why this need cannot be asked for, for the person asking; empty when it can."""
        found, seen = [], set()
        for requirement in self.requirements:
            if requirement.count > self.quorum:
                found.append(f"{requirement.count} {requirement.label} is more than the {accepts(self.quorum)} "
                             "needed: a requirement cannot ask for more than the quorum.")
            if requirement.key in seen:
                found.append(f"{requirement.label.capitalize()} is asked for twice: give it once, with the number "
                             "needed.")
            seen.add(requirement.key)
        return found

    def is_met(self, accepted: Iterable[Candidate]) -> bool:
        accepted = list(accepted)
        if len(accepted) < self.quorum:
            return False
        return all(sum(r.matches(c) for c in accepted) >= r.count for r in self.requirements)

    def describe(self) -> str:
        parts = [f"{r.count} {r.label}" for r in self.requirements]
        return f"{accepts(self.quorum)}, including {' and '.join(parts)}" if parts else accepts(self.quorum)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "quorum": self.quorum,
                "requirements": [requirement.to_json() for requirement in self.requirements]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Need:
        version = data.get("version", 1)
        if version not in (1, 2):
            raise ValueError(f"A need of version {version} is newer than this code reads (up to {cls.VERSION}).")
        return cls(quorum=data["quorum"],
                   requirements=tuple(Requirement.from_json(r) for r in data.get("requirements", ())))


def accepts(count: int) -> str:
    return f"{count} accept{'s' if count != 1 else ''}"
