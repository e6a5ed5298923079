"""Property-based tests of the schedule engine, on in-memory objects (no database needed)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from units.models import Override, Person, Rotation, Tier, Unavailability, Unit
from units.schedule import Reason, RotationPlan, UnitSchedule

ZONES = ["Europe/London", "America/Toronto", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata"]
PEOPLE = [Person(id=i, full_name=f"P{i}", badge_number=str(i), active=True) for i in range(1, 9)]
WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)

rotations = st.builds(
    lambda zone, unit, length, start, handoff, n, days: (
        ZoneInfo(zone),
        Rotation(
            id=1, name="R", shift_unit=unit, shift_length=length, start_date=start, handoff_time=handoff, weekdays=days
        ),
        PEOPLE[:n],
    ),
    zone=st.sampled_from(ZONES),
    unit=st.sampled_from(["hours", "days", "weeks"]),
    length=st.integers(1, 14),
    start=st.dates(date(2025, 6, 1), date(2026, 12, 31)),
    handoff=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    n=st.integers(1, 5),
    days=st.just("0123456"),
)
instants = st.integers(0, 3 * 365 * 24 * 3600).map(lambda s: WINDOW_START + timedelta(seconds=s))


def oracle(plan: RotationPlan, at: datetime):
    """Walk handoffs one by one from the first: an independent answer to "whose shift is it"."""
    if at < plan.starts:
        return None
    k = 0
    while plan.handoff(k + 1) <= at:
        k += 1
    return plan.participants[k % len(plan.participants)]


@settings(max_examples=150, deadline=None)
@given(rotations, instants)
def test_every_instant_of_a_rotation_has_exactly_the_participant_whose_shift_it_is(rotation, at):
    tz, model, people = rotation
    plan = RotationPlan(model, people, tz)
    # Keep the oracle's walk short: look within a few hundred shifts of the start.
    at = plan.starts + (at - WINDOW_START) % (plan.step * 300) - timedelta(hours=2)
    assert plan.on_call(at) == oracle(plan, at)


@settings(max_examples=150, deadline=None)
@given(rotations, st.integers(0, 400))
def test_handoffs_never_go_backwards_and_keep_their_wall_clock_time(rotation, k):
    tz, model, people = rotation
    plan = RotationPlan(model, people, tz)
    first, second = plan.handoff(k), plan.handoff(k + 1)
    assert second >= first
    # A shift is its nominal length give or take one DST change (at most an hour).
    assert abs((second - first) - plan.step) <= timedelta(hours=1)
    local = first.astimezone(tz)
    wall = datetime.combine(model.start_date, model.handoff_time) + plan.step * k
    skipped = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall
    assert skipped or local.replace(tzinfo=None) == wall


def in_memory_schedule(zone, rotation, people, overrides, spans, fixed_people):
    unit = Unit(id=1, name="U", code="u", timezone=zone)
    tier = Tier(id=1, unit=unit, position=1, name="Primary")
    rotation.tier = tier
    objects = []
    for i, (person, replaces, start, hours) in enumerate(overrides, start=1):
        objects.append(
            Override(
                id=i,
                tier=tier,
                person=person,
                replaces=replaces,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
            )
        )
    unavailability = {}
    for person, start, hours in spans:
        span = Unavailability(person=person, starts_at=start, ends_at=start + timedelta(hours=hours))
        unavailability.setdefault(person.id, []).append(span)

    return UnitSchedule(
        unit,
        WINDOW_START,
        WINDOW_START + timedelta(days=60),
        [tier],
        rotations={1: [RotationPlan(rotation, people, ZoneInfo(zone))]},
        overrides={1: objects},
        fixed={1: [(Reason("fixed", 1, "Always on Primary"), fixed_people)]},
        unavailability=unavailability,
    )


window_instants = st.integers(0, 60 * 24 * 60 - 1).map(lambda m: WINDOW_START + timedelta(minutes=m))
person = st.sampled_from(PEOPLE)
scenario = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "length": st.integers(1, 48),
        "n": st.integers(1, 5),
        "overrides": st.lists(st.tuples(person, st.none() | person, window_instants, st.integers(1, 200)), max_size=4),
        "spans": st.lists(st.tuples(person, window_instants, st.integers(1, 300)), max_size=6),
        "fixed": st.lists(person, max_size=2, unique=True),
        "days": st.sets(st.integers(0, 6), min_size=1).map(lambda days: "".join(str(d) for d in sorted(days))),
    }
)


def build(s):
    rotation = Rotation(
        id=1,
        name="R",
        shift_unit="hours",
        shift_length=s["length"],
        start_date=date(2025, 12, 1),
        handoff_time=time(7),
        weekdays=s["days"],
    )
    overrides = [o for o in s["overrides"] if o[0] != o[1]]
    return in_memory_schedule(s["zone"], rotation, PEOPLE[: s["n"]], overrides, s["spans"], s["fixed"])


@settings(max_examples=200, deadline=None)
@given(scenario, window_instants)
def test_unavailability_always_wins(s, at):
    schedule = build(s)
    (tier,) = schedule.resolve(at)
    for entry in tier.entries:
        assert not any(
            p.id == entry.person.id and start <= at < start + timedelta(hours=h) for p, start, h in s["spans"]
        )


@settings(max_examples=100, deadline=None)
@given(scenario)
def test_segments_tile_the_window_and_agree_with_the_resolver_inside(s):
    schedule = build(s)
    start, end = WINDOW_START, WINDOW_START + timedelta(days=10)
    segments = schedule.segments(start, end)
    assert segments[0].start == start and segments[-1].end == end
    for earlier, later in zip(segments, segments[1:], strict=False):
        assert earlier.end == later.start
        assert earlier.tiers != later.tiers
    for segment in segments:
        for probe in (
            segment.start,
            segment.end - timedelta(microseconds=1),
            segment.start + (segment.end - segment.start) / 2,
        ):
            assert schedule.resolve(probe) == segment.tiers


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), st.sets(st.integers(0, 6), min_size=1, max_size=6), st.times(), window_instants)
def test_complementary_day_layers_cover_every_instant_exactly_once(zone, days, handoff, at):
    handoff = handoff.replace(second=0, microsecond=0)
    layer = "".join(str(d) for d in sorted(days))
    rest = "".join(str(d) for d in range(7) if d not in days)
    plans = [
        RotationPlan(
            Rotation(
                id=i,
                name=name,
                shift_unit="days",
                shift_length=1,
                start_date=date(2025, 12, 1),
                handoff_time=handoff,
                weekdays=weekdays,
            ),
            [PEOPLE[i]],
            ZoneInfo(zone),
        )
        for i, (name, weekdays) in enumerate([("layer", layer), ("rest", rest)])
    ]
    assert sum(plan.on_call(at) is not None for plan in plans) == 1
