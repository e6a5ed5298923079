"""The policy snapshot frozen on a callout, in every shape it has been stored in."""

import pytest

from callouts.policy import PolicySnapshot

STORED_BEFORE_VERSIONS = {"waits": {"1": 120, "2": 300}, "default_wait": 300, "move_on_when_hopeless": False,
                          "repeat_count": 1, "fallback_to_operators": True}


def test_a_snapshot_stored_before_snapshots_had_versions_still_reads():
    snapshot = PolicySnapshot.from_json(STORED_BEFORE_VERSIONS)

    assert (snapshot.wait_seconds(1), snapshot.wait_seconds(2), snapshot.wait_seconds(3)) == (120, 300, 300)
    assert (snapshot.move_on_when_hopeless, snapshot.repeat_count, snapshot.fallback_to_operators) == (False, 1, True)


def test_a_snapshot_reads_back_as_it_was_written():
    snapshot = PolicySnapshot.from_json(STORED_BEFORE_VERSIONS)

    assert snapshot.to_json() == {"version": 2, **STORED_BEFORE_VERSIONS}
    assert PolicySnapshot.from_json(snapshot.to_json()) == snapshot


def test_a_snapshot_from_a_newer_version_is_refused_rather_than_misread():
    with pytest.raises(ValueError, match="version 3"):
        PolicySnapshot.from_json({**STORED_BEFORE_VERSIONS, "version": 3})
