from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import add_member, make_person, make_rotation, make_unit
from units.models import FixedRule, Membership, Override, Unavailability
from units.schedule import load_schedules, resolve_callout_lists
from units.selectors import coverage_gaps, person_shifts, unit_shifts

LONDON = ZoneInfo("Europe/London")
TORONTO = ZoneInfo("America/Toronto")


def at(tz, *args):
    return datetime(*args, tzinfo=tz)


def names(resolved_tier):
    return [p.full_name for p in resolved_tier.people]


@pytest.fixture
def weekly(unit_a):
    people = [make_person(n) for n in ("Ann", "Ben", "Cat")]
    primary = unit_a.tiers.get(position=1)
    rotation = make_rotation(primary, people, length=1, unit="weeks", start=date(2026, 1, 5), handoff=time(8))
    return unit_a, people, rotation


def test_weekly_rotation_hands_off_at_local_handoff_time(weekly):
    unit, (ann, ben, cat), _ = weekly
    primary, secondary = resolve_callout_lists(unit, at(LONDON, 2026, 1, 5, 8, 0))
    assert names(primary) == ["Ann"]
    assert names(secondary) == []
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 12, 7, 59))[0]) == ["Ann"]
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 12, 8, 0))[0]) == ["Ben"]
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 26, 8, 0))[0]) == ["Ann"]


def test_nobody_is_on_call_before_the_rotation_starts_or_after_it_ends(weekly):
    unit, _, rotation = weekly
    rotation.end_date = date(2026, 2, 2)
    rotation.save()
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 5, 7, 59))[0]) == []
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 2, 2, 7, 59))[0]) == ["Ann"]
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 2, 2, 8, 0))[0]) == []


def test_each_person_carries_the_reason_they_are_on_the_list(weekly):
    unit, _, rotation = weekly
    (entry,) = resolve_callout_lists(unit, at(LONDON, 2026, 1, 6, 12))[0].entries
    assert [(r.kind, r.source_id) for r in entry.reasons] == [("rotation", rotation.id)]
    assert "rotation" in entry.reasons[0].text


def test_a_week_handoff_after_british_summer_time_begins_is_still_at_eight_local(weekly):
    unit, _, _ = weekly
    # 2026-03-29 is the spring-forward Sunday in London; the Monday handoff is 08:00 BST = 07:00 UTC.
    before = resolve_callout_lists(unit, datetime(2026, 3, 30, 6, 59, tzinfo=UTC))[0]
    after = resolve_callout_lists(unit, datetime(2026, 3, 30, 7, 0, tzinfo=UTC))[0]
    assert names(before) != names(after)


@pytest.mark.parametrize(
    ("tz", "change_day", "night_hours"),
    [
        ("Europe/London", date(2026, 3, 29), 11),
        ("Europe/London", date(2026, 10, 25), 13),
        ("America/Toronto", date(2026, 3, 8), 11),
        ("America/Toronto", date(2026, 11, 1), 13),
    ],
)
def test_overnight_shifts_on_dst_nights_have_no_gap_and_no_overlap(db, tz, change_day, night_hours):
    unit = make_unit(tz=tz)
    day_shift, night_shift = make_person("Day"), make_person("Night")
    primary = unit.tiers.get(position=1)
    make_rotation(primary, [day_shift, night_shift], length=12, unit="hours", start=date(2026, 1, 1),
                  handoff=time(7))
    zone = ZoneInfo(tz)
    start = datetime.combine(change_day - timedelta(days=2), time(0), tzinfo=zone)
    end = datetime.combine(change_day + timedelta(days=2), time(0), tzinfo=zone)
    shifts = unit_shifts(unit, start, end)

    for earlier, later in zip(shifts, shifts[1:], strict=False):
        assert earlier.end == later.start
    inner = shifts[1:-1]
    assert {s.start.astimezone(zone).time() for s in inner} == {time(7), time(19)}
    night = next(s for s in shifts if s.start.astimezone(zone).date() == change_day - timedelta(days=1)
                 and s.person == night_shift)
    assert night.end - night.start == timedelta(hours=night_hours)


def test_weekly_handoff_at_a_time_skipped_by_spring_forward_happens_once(db):
    unit = make_unit(tz="America/Toronto")
    people = [make_person(n) for n in ("Ann", "Ben")]
    # 02:30 does not exist in Toronto on 2026-03-08.
    make_rotation(unit.tiers.get(position=1), people, length=1, unit="weeks", start=date(2026, 2, 22),
                  handoff=time(2, 30))
    shifts = unit_shifts(unit, at(TORONTO, 2026, 2, 28), at(TORONTO, 2026, 3, 20))
    assert [s.person.full_name for s in shifts] == ["Ann", "Ben", "Ann", "Ben"]
    assert shifts[1].end == shifts[2].start == at(TORONTO, 2026, 3, 8, 3, 30)
    assert shifts[2].end == shifts[3].start == at(TORONTO, 2026, 3, 15, 2, 30)


def test_weekday_and_weekend_layers_share_the_week_without_overlap(unit_a):
    weekday, weekend = make_person("Weekday"), make_person("Weekend")
    primary = unit_a.tiers.get(position=1)
    make_rotation(primary, [weekday], name="Weekdays", weekdays="01234")
    make_rotation(primary, [weekend], name="Weekend", weekdays="56")
    # Duty days turn over at the 09:00 handoff: the weekend runs from Saturday 09:00 to Monday 09:00.
    expected = [
        (at(LONDON, 2026, 3, 13, 23, 59), "Weekday"),  # Friday night
        (at(LONDON, 2026, 3, 14, 8, 59), "Weekday"),
        (at(LONDON, 2026, 3, 14, 9, 0), "Weekend"),
        (at(LONDON, 2026, 3, 16, 8, 59), "Weekend"),  # Monday early morning
        (at(LONDON, 2026, 3, 16, 9, 0), "Weekday"),
    ]
    for moment, name in expected:
        assert names(resolve_callout_lists(unit_a, moment)[0]) == [name], moment


def test_override_replaces_the_person_on_call_only_within_its_window(weekly):
    unit, (ann, ben, cat), _ = weekly
    primary = unit.tiers.get(position=1)
    dan = make_person("Dan")
    Override.objects.create(tier=primary, person=dan, replaces=ann, starts_at=at(LONDON, 2026, 1, 6, 18),
                            ends_at=at(LONDON, 2026, 1, 7, 6), reason="Ann at a wedding")
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 6, 17, 59))[0]) == ["Ann"]
    (entry,) = resolve_callout_lists(unit, at(LONDON, 2026, 1, 6, 18))[0].entries
    assert entry.person == dan
    assert entry.reasons[0].kind == "override"
    assert "Ann" in entry.reasons[0].text
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 7, 6))[0]) == ["Ann"]


def test_override_replacing_someone_not_on_the_list_adds_nobody(weekly):
    unit, (ann, ben, cat), _ = weekly
    Override.objects.create(tier=unit.tiers.get(position=1), person=make_person("Dan"), replaces=ben,
                            starts_at=at(LONDON, 2026, 1, 6), ends_at=at(LONDON, 2026, 1, 7))
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 6, 12))[0]) == ["Ann"]


def test_override_without_replacement_adds_a_person(weekly):
    unit, _, _ = weekly
    Override.objects.create(tier=unit.tiers.get(position=1), person=make_person("Dan"),
                            starts_at=at(LONDON, 2026, 1, 6), ends_at=at(LONDON, 2026, 1, 7))
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 6, 12))[0]) == ["Ann", "Dan"]


def test_unavailability_wins_over_rotation_override_and_fixed_rule(weekly):
    unit, (ann, ben, cat), _ = weekly
    primary, secondary = unit.tiers.all()
    add_member(unit, ann, Membership.Role.TEAM_LEADER)
    FixedRule.objects.create(tier=secondary, role=Membership.Role.TEAM_LEADER)
    dan = make_person("Dan")
    Override.objects.create(tier=primary, person=dan, starts_at=at(LONDON, 2026, 1, 6),
                            ends_at=at(LONDON, 2026, 1, 8))
    Unavailability.objects.create(person=ann, kind="sick", starts_at=at(LONDON, 2026, 1, 6),
                                  ends_at=at(LONDON, 2026, 1, 7))
    Unavailability.objects.create(person=dan, kind="court", starts_at=at(LONDON, 2026, 1, 6),
                                  ends_at=at(LONDON, 2026, 1, 7))
    during = resolve_callout_lists(unit, at(LONDON, 2026, 1, 6, 12))
    assert [names(t) for t in during] == [[], []]
    after = resolve_callout_lists(unit, at(LONDON, 2026, 1, 7, 12))
    assert [names(t) for t in after] == [["Ann", "Dan"], ["Ann"]]


def test_fixed_rule_puts_every_team_leader_on_secondary(unit_a, member_a):
    leaders = [make_person("Zed Leader"), make_person("Yan Leader")]
    for leader in leaders:
        add_member(unit_a, leader, Membership.Role.TEAM_LEADER)
    rule = FixedRule.objects.create(tier=unit_a.tiers.get(position=2), role=Membership.Role.TEAM_LEADER)
    primary, secondary = resolve_callout_lists(unit_a, at(LONDON, 2026, 6, 1))
    assert names(secondary) == ["Yan Leader", "Zed Leader"]
    assert all(e.reasons[0].source_id == rule.id for e in secondary.entries)


def test_person_on_twice_is_listed_once_with_both_reasons(weekly):
    unit, (ann, _, _), _ = weekly
    rule = FixedRule.objects.create(tier=unit.tiers.get(position=1), person=ann)
    (entry,) = resolve_callout_lists(unit, at(LONDON, 2026, 1, 6))[0].entries
    assert [r.kind for r in entry.reasons] == ["rotation", "fixed"]
    assert entry.reasons[1].source_id == rule.id


def test_inactive_people_are_on_no_list(weekly):
    unit, (ann, _, _), _ = weekly
    ann.active = False
    ann.save()
    assert names(resolve_callout_lists(unit, at(LONDON, 2026, 1, 6))[0]) == []


def test_loading_many_units_takes_the_same_number_of_queries_as_one(db):
    def build(n):
        for _ in range(n):
            unit = make_unit()
            people = [make_person() for _ in range(3)]
            make_rotation(unit.tiers.get(position=1), people)
            FixedRule.objects.create(tier=unit.tiers.get(position=2), role=Membership.Role.TEAM_LEADER)

    start, end = at(LONDON, 2026, 1, 5), at(LONDON, 2026, 1, 19)
    build(1)
    from units.models import Unit

    with CaptureQueriesContext(connection) as one:
        load_schedules(Unit.objects.all(), start, end)
    build(5)
    with CaptureQueriesContext(connection) as six:
        schedules = load_schedules(Unit.objects.all(), start, end)
        for schedule in schedules.values():
            schedule.segments(start, end)
    assert len(six) == len(one)


def test_person_shifts_agree_with_the_resolver(weekly):
    unit, (ann, ben, cat), _ = weekly
    start, end = at(LONDON, 2026, 1, 1), at(LONDON, 2026, 2, 1)
    shifts = person_shifts(ben, start, end)
    assert [(s.start, s.end) for s in shifts] == [
        (at(LONDON, 2026, 1, 12, 8), at(LONDON, 2026, 1, 19, 8)),
    ]
    for shift in shifts:
        assert ben in resolve_callout_lists(unit, shift.start)[0].people
        assert ben not in resolve_callout_lists(unit, shift.end)[0].people


def test_coverage_gaps_report_empty_lists_and_unreachable_people(weekly):
    unit, (ann, ben, cat), _ = weekly
    for method in ben.contact_methods.all():
        method.verified_at = None
        method.save()
    gaps = coverage_gaps(at(LONDON, 2026, 1, 10), at(LONDON, 2026, 1, 20), units=[unit])
    empty = [g for g in gaps if g.problem == "empty"]
    unverified = [g for g in gaps if g.problem == "unverified"]
    assert [(g.tier.position, g.start, g.end) for g in empty] == [
        (2, at(LONDON, 2026, 1, 10), at(LONDON, 2026, 1, 20))
    ]
    assert [(g.people, g.start, g.end) for g in unverified] == [
        ((ben,), at(LONDON, 2026, 1, 12, 8), at(LONDON, 2026, 1, 19, 8))
    ]
