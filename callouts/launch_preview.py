"""What the launch confirmation shows before anyone is paged: who each list alerts, and what may go wrong.

The warnings never stop a launch (the operator may have to launch all the same), but each names who or what:
an empty list, people with no verified way to reach them, and a need the first list cannot meet even if everyone
on it accepts. The lists are read as the launch freezes them (``callouts.services.callouts.freeze_recipients``):
each person once, on the first list they are on; the launch alerts the first list with anyone on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from callouts.need import Need, Requirement, accepts
from units.models import Membership, Person, Unit
from units.schedule import resolve_callout_lists
from units.selectors import NO_CONTACT, unverified_people


@dataclass(frozen=True)
class PreviewList:
    name: str
    people: list[Person]
    anyone_on_it: bool  # before taking out those already on an earlier list


@dataclass(frozen=True)
class Candidate:
    """A person as the need sees them: the role and qualifications of their membership of the unit."""

    person: Person
    role: str = ""
    qualifications: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LaunchPreview:
    first: PreviewList | None
    later: list[PreviewList]
    warnings: list[str]


def launch_preview(*, unit: Unit, need: Need, at: datetime) -> LaunchPreview:
    lists = each_person_once(unit, at)
    start = next((i for i, listed in enumerate(lists) if listed.people), None)
    if start is None:
        return LaunchPreview(None, [], [
            f"Nobody is on any of {unit}'s lists right now. Launching alerts the duty operators if the unit's policy "
            "falls back to them; phone round at once."])
    first, later = lists[start], lists[start + 1:]
    everyone = [person for listed in lists for person in listed.people]
    unreachable = unverified_people(person.id for person in everyone)
    candidates = as_candidates(unit, [p for p in everyone if unreachable.get(p.id) != NO_CONTACT])
    warnings = [
        *empty_list_warnings(lists, start),
        *contact_warnings(lists, unreachable),
        *need_warnings(need, first, candidates),
    ]
    return LaunchPreview(first, later, warnings)


def each_person_once(unit: Unit, at: datetime) -> list[PreviewList]:
    seen, lists = set(), []
    for resolved in resolve_callout_lists(unit, at):
        people = [entry.person for entry in resolved.entries if entry.person.id not in seen]
        seen.update(person.id for person in people)
        lists.append(PreviewList(resolved.tier.name, people, bool(resolved.entries)))
    return lists


def as_candidates(unit: Unit, people: list[Person]) -> dict[int, Candidate]:
    """Everyone who can be alerted, with what the need counts; someone listed but not a member counts as nobody."""
    memberships = {m.person_id: m for m in Membership.objects.filter(unit=unit, person__in=people)
                   .prefetch_related("qualifications")}
    return {
        person.id: Candidate(person, memberships[person.id].role,
                             [q.code for q in memberships[person.id].qualifications.all()])
        if person.id in memberships else Candidate(person)
        for person in people
    }


def empty_list_warnings(lists: list[PreviewList], start: int) -> list[str]:
    warnings = []
    for index, listed in enumerate(lists):
        if listed.people:
            continue
        why = "has nobody on it right now" if not listed.anyone_on_it else (
            "adds nobody (everyone on it is on an earlier list)")
        if index < start:
            outcome = f"the launch alerts {lists[start].name} first."
        elif any(later.people for later in lists[index + 1:]):
            outcome = "escalation skips it."
        else:
            outcome = "if the lists before it do not fill the callout, it is exhausted there."
        warnings.append(f"{listed.name} {why}: {outcome}")
    return warnings


def contact_warnings(lists: list[PreviewList], unreachable: dict[int, str]) -> list[str]:
    def named(kind: str) -> str:
        return ", ".join(f"{person} ({listed.name})" for listed in lists for person in listed.people
                         if unreachable.get(person.id) == kind)

    warnings = []
    if nobody := named(NO_CONTACT):
        warnings.append(f"No contact method at all, so nothing can be sent to them: {nobody}.")
    if unverified := named("unverified"):
        warnings.append(f"No verified contact method, so the alert may not reach them: {unverified}.")
    return warnings


def need_warnings(need: Need, first: PreviewList, candidates: dict[int, Candidate]) -> list[str]:
    """Why the first list cannot meet the need even if everyone on it who can be alerted accepts."""
    on_first = [candidates[person.id] for person in first.people if person.id in candidates]
    if need.is_met(on_first):
        return []
    short = []
    if len(on_first) < need.quorum:
        can = {0: "nobody", 1: "only 1 person"}.get(len(on_first), f"only {len(on_first)} people")
        short.append(f"{can} on it can be alerted, and it needs {accepts(need.quorum)}")
    short += [shortfall(requirement, on_first) for requirement in need.requirements
              if sum(requirement.matches(c) for c in on_first) < requirement.count]
    warning = f"{first.name} cannot fill this callout even if everyone on it accepts: {'; '.join(short)}."
    if not need.is_met(candidates.values()):
        warning += " Nor can all the lists together: phone round for the rest."
    return [warning]


def shortfall(requirement: Requirement, on_list: list[Candidate]) -> str:
    holders = [str(c.person) for c in on_list if requirement.matches(c)]
    if not holders:
        return f"no {requirement.label} on it, and it needs {requirement.count}"
    return f"only {len(holders)} {requirement.label} on it ({', '.join(holders)}), and it needs {requirement.count}"
