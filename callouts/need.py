"""What "the unit's need is met" means: a quorum of accepts, and enough of each required role/qualification.

A need is plain data frozen on the callout:
``{"quorum": 4, "requirements": [{"role": "team_leader", "count": 1}, {"qualification": "medic", "count": 1}]}``
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Candidate(Protocol):
    role: str
    qualifications: list[str]


def need_from_policy(policy) -> dict:
    requirements = []
    for requirement in policy.requirements.select_related("qualification"):
        if requirement.role:
            requirements.append({"role": requirement.role, "count": requirement.count})
        else:
            requirements.append({"qualification": requirement.qualification.code, "count": requirement.count})
    return {"quorum": policy.quorum, "requirements": requirements}


def matches(candidate: Candidate, requirement: dict) -> bool:
    if "role" in requirement:
        return candidate.role == requirement["role"]
    return requirement["qualification"] in candidate.qualifications


def is_met(need: dict, accepted: Iterable[Candidate]) -> bool:
    accepted = list(accepted)
    if len(accepted) < need["quorum"]:
        return False
    return all(sum(matches(c, r) for c in accepted) >= r["count"] for r in need.get("requirements", ()))


def describe(need: dict) -> str:
    parts = [f"{need['quorum']} accept{'s' if need['quorum'] != 1 else ''}"]
    for requirement in need.get("requirements", ()):
        label = requirement.get("role") or requirement.get("qualification")
        parts.append(f"{requirement['count']} {label.replace('_', ' ')}")
    return ", including ".join([parts[0], " and ".join(parts[1:])]) if len(parts) > 1 else parts[0]
