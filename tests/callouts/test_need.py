"""The need frozen on a callout: what fills it, how it is described, and every shape it has been stored in."""

import pytest

from callouts.need import Need, Requirement

MEDIC = Requirement(kind="qualification", code="medic", count=2)
COMMANDER = Requirement(kind="role", code="commander")


class Accept:
    def __init__(self, role="member", *qualifications):
        self.role, self.qualifications = role, list(qualifications)


def test_a_need_reads_back_as_it_was_written():
    need = Need(quorum=3, requirements=(MEDIC, COMMANDER))

    assert need.to_json() == {"version": 2, "quorum": 3, "requirements": [
        {"qualification": "medic", "count": 2}, {"role": "commander", "count": 1}]}
    assert Need.from_json(need.to_json()) == need


@pytest.mark.parametrize(("stored", "need"), [
    ({"quorum": 2, "requirements": [{"role": "team_leader", "count": 1}, {"qualification": "medic", "count": 1}]},
     Need(quorum=2, requirements=(Requirement(kind="role", code="team_leader"),
                                  Requirement(kind="qualification", code="medic")))),
    ({"quorum": 4}, Need(quorum=4)),
    ({"quorum": 1, "requirements": [{"role": "commander"}]}, Need(quorum=1, requirements=(COMMANDER,))),
])
def test_a_need_stored_before_needs_had_versions_still_reads(stored, need):
    assert Need.from_json(stored) == need


def test_a_need_from_a_newer_version_is_refused_rather_than_misread():
    with pytest.raises(ValueError, match="version 3"):
        Need.from_json({"version": 3, "quorum": 1, "requirements": []})


def test_one_accept_can_count_for_several_requirements_but_the_quorum_counts_people():
    need = Need(quorum=2, requirements=(Requirement(kind="qualification", code="medic"), COMMANDER))

    assert not need.is_met([Accept("commander", "medic")])
    assert need.is_met([Accept("commander", "medic"), Accept()])
    assert not need.is_met([Accept("commander"), Accept()])


def test_a_need_describes_itself_as_the_operator_reads_it():
    assert Need(quorum=1).describe() == "1 accept"
    assert Need(quorum=3, requirements=(MEDIC, COMMANDER)).describe() == "3 accepts, including 2 medic and 1 commander"


def test_a_need_says_what_cannot_be_asked_for():
    need = Need(quorum=1, requirements=(MEDIC, COMMANDER, Requirement(kind="role", code="commander")))

    assert need.problems() == [
        "2 medic is more than the 1 accept needed: a requirement cannot ask for more than the quorum.",
        "Commander is asked for twice: give it once, with the number needed.",
    ]
    assert Need(quorum=2, requirements=(MEDIC, COMMANDER)).problems() == []
