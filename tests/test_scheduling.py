"""The planner's pure scheduling rules: working days, plan proposals, capacity, re-forecasts.

Weekend rules are checked on a plain Monday-to-Friday calendar (`WEEK`, no public holidays);
the plant's default calendar (`CN`: Shanghai, China's holidays and make-up days) checks that
plans follow its days off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planning.scheduling import (
    MILESTONE_OWNERS,
    Booking,
    Capacity,
    add_working_days,
    first_free_start,
    is_working_day,
    next_working_day,
    propose_milestones,
    shift_forecast,
    weekdays_between,
    working_days_between,
)
from shared.payloads import MILESTONES
from shared.working_time.calendar import FactoryCalendar
from tests.plant_calendar import plant_calendar

WEEK = plant_calendar(holidays_country="none")
CN = plant_calendar()

MONDAY = date(2026, 11, 23)
WEDNESDAY = MONDAY + timedelta(days=2)
FRIDAY = MONDAY + timedelta(days=4)
SATURDAY = MONDAY + timedelta(days=5)
SUNDAY = MONDAY + timedelta(days=6)
NEXT_MONDAY = MONDAY + timedelta(days=7)
CAPACITY = Capacity(production_days=10, inspection_days=2, ship_days=2, workshop_capacity=2)

# Which milestone may not fall after which (the process order of the master plan).
PRECEDENCE = [
    ("design_done", "bom_release"),
    ("bom_release", "drawings_release"),
    ("bom_release", "material_required"),
    ("material_required", "production_start"),
    ("drawings_release", "production_start"),
    ("production_start", "production_end"),
    ("production_end", "final_inspection"),
    ("final_inspection", "ship"),
]

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def test_weekdays_are_working_days_and_weekends_are_not() -> None:
    assert MONDAY.weekday() == 0
    week = [MONDAY + timedelta(days=i) for i in range(7)]
    assert [is_working_day(WEEK, d) for d in week] == [True] * 5 + [False] * 2


@pytest.mark.parametrize(
    ("start", "expected"),
    [(WEDNESDAY, WEDNESDAY), (FRIDAY, FRIDAY), (SATURDAY, NEXT_MONDAY), (SUNDAY, NEXT_MONDAY)],
)
def test_next_working_day_is_the_day_itself_or_the_following_monday(
    start: date, expected: date
) -> None:
    assert next_working_day(WEEK, start) == expected


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (WEDNESDAY, 0, WEDNESDAY),
        (WEDNESDAY, 1, WEDNESDAY + timedelta(days=1)),
        (FRIDAY, 1, NEXT_MONDAY),
        (WEDNESDAY, 5, WEDNESDAY + timedelta(days=7)),
        (MONDAY, 10, MONDAY + timedelta(days=14)),
        (SATURDAY, 0, NEXT_MONDAY),
        (SATURDAY, 1, NEXT_MONDAY + timedelta(days=1)),
        (SUNDAY, 5, NEXT_MONDAY + timedelta(days=7)),
    ],
)
def test_add_working_days_skips_weekends(start: date, count: int, expected: date) -> None:
    assert add_working_days(WEEK, start, count) == expected


def test_working_days_between_counts_weekdays_after_start() -> None:
    for count in (working_days_between, lambda _, a, b: weekdays_between(a, b)):
        assert count(WEEK, FRIDAY, NEXT_MONDAY) == 1
        assert count(WEEK, MONDAY, NEXT_MONDAY) == 5
        assert count(WEEK, NEXT_MONDAY, MONDAY) == 0
        assert count(WEEK, SATURDAY, SUNDAY) == 0


def test_working_days_follow_the_plants_public_holidays_and_make_up_days() -> None:
    # National Day 2026 (official): Oct 1-7 off, Saturday Oct 10 worked in exchange.
    assert not is_working_day(CN, date(2026, 10, 1))
    assert is_working_day(CN, date(2026, 10, 10))
    assert next_working_day(CN, date(2026, 10, 1)) == date(2026, 10, 8)
    assert add_working_days(CN, date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert working_days_between(CN, date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert weekdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 7


@given(start=days, count=st.integers(min_value=0, max_value=400))
def test_add_working_days_lands_on_a_working_day_exactly_count_working_days_on(
    start: date, count: int
) -> None:
    end = add_working_days(WEEK, start, count)
    assert is_working_day(WEEK, end)
    assert end >= start
    assert working_days_between(WEEK, next_working_day(WEEK, start), end) == count
    # Never fewer calendar days than working days; at most a weekend's worth more per week.
    assert count <= (end - start).days <= count + 2 * (count // 5 + 1) + 2
    # On the plant's calendar too, whatever holidays lie between.
    end = add_working_days(CN, start, count)
    assert is_working_day(CN, end)
    assert working_days_between(CN, next_working_day(CN, start), end) == count


@given(start=days, count=st.integers(min_value=0, max_value=200))
def test_add_working_days_grows_with_the_count(start: date, count: int) -> None:
    for cal in (WEEK, CN):
        assert add_working_days(cal, start, count + 1) > add_working_days(cal, start, count)


def test_every_milestone_has_an_owning_department() -> None:
    assert set(MILESTONE_OWNERS) == set(MILESTONES)
    assert MILESTONE_OWNERS["design_done"] == "engineering"
    assert MILESTONE_OWNERS["ship"] == "sales"


def test_proposal_follows_design_lead_time_and_standard_durations() -> None:
    plan = propose_milestones(
        calendar=WEEK, today=MONDAY, design_days=10, lead_days=20, capacity=CAPACITY, bookings=[]
    )
    assert list(plan) == list(MILESTONES)
    assert plan["design_done"] == add_working_days(WEEK, MONDAY, 10)
    assert plan["bom_release"] == plan["design_done"]
    assert plan["drawings_release"] == add_working_days(WEEK, plan["bom_release"], 2)
    assert plan["material_required"] == next_working_day(
        WEEK, plan["bom_release"] + timedelta(days=20)
    )
    assert plan["production_start"] == max(plan["material_required"], plan["drawings_release"])
    assert plan["production_end"] == add_working_days(WEEK, plan["production_start"], 10)
    assert plan["final_inspection"] == add_working_days(WEEK, plan["production_end"], 2)
    assert plan["ship"] == add_working_days(WEEK, plan["final_inspection"], 2)


def test_short_lead_time_lets_production_wait_for_the_drawings() -> None:
    plan = propose_milestones(
        calendar=WEEK, today=MONDAY, design_days=5, lead_days=0, capacity=CAPACITY, bookings=[]
    )
    assert plan["material_required"] < plan["drawings_release"]
    assert plan["production_start"] == plan["drawings_release"]


@given(
    today=days,
    design_days=st.integers(min_value=0, max_value=120),
    lead_days=st.integers(min_value=0, max_value=365),
)
def test_proposed_milestones_keep_process_order_on_working_days(
    today: date, design_days: int, lead_days: int
) -> None:
    plan = propose_milestones(
        calendar=WEEK,
        today=today,
        design_days=design_days,
        lead_days=lead_days,
        capacity=CAPACITY,
        bookings=[],
    )
    assert list(plan) == list(MILESTONES)
    for earlier, later in PRECEDENCE:
        assert plan[earlier] <= plan[later], (earlier, later, plan)
    assert all(is_working_day(WEEK, d) for d in plan.values())
    assert plan["design_done"] >= today
    assert working_days_between(WEEK, plan["production_start"], plan["production_end"]) == 10


@given(
    today=days,
    design_days=st.integers(min_value=0, max_value=120),
    lead_days=st.integers(min_value=0, max_value=365),
)
def test_proposals_on_the_plants_calendar_keep_order_on_its_working_days(
    today: date, design_days: int, lead_days: int
) -> None:
    plan = propose_milestones(
        calendar=CN,
        today=today,
        design_days=design_days,
        lead_days=lead_days,
        capacity=CAPACITY,
        bookings=[],
    )
    for earlier, later in PRECEDENCE:
        assert plan[earlier] <= plan[later], (earlier, later, plan)
    assert all(is_working_day(CN, d) for d in plan.values())
    assert working_days_between(CN, next_working_day(CN, today), plan["design_done"]) == (
        design_days
    )
    assert working_days_between(CN, plan["production_start"], plan["production_end"]) == 10


def _length(calendar: FactoryCalendar, today: date) -> int:
    """Calendar days from `today` to the ship date of a plan with no material wait."""
    plan = propose_milestones(
        calendar=calendar,
        today=today,
        design_days=10,
        lead_days=0,
        capacity=CAPACITY,
        bookings=[],
    )
    return (plan["ship"] - today).days


def test_a_plan_across_the_2027_spring_festival_is_longer_by_its_rule_based_days_off() -> None:
    before_festival = date(2027, 1, 25)  # a Monday, the festival two weeks on
    quiet = date(2027, 10, 11)  # a Monday, no public holiday in the five weeks after it
    assert before_festival.weekday() == quiet.weekday() == 0
    # Without holidays both plans take the same time; in October the plant's calendar agrees.
    assert _length(WEEK, before_festival) == _length(WEEK, quiet) == _length(CN, quiet)
    plan = propose_milestones(
        calendar=CN,
        today=before_festival,
        design_days=10,
        lead_days=0,
        capacity=CAPACITY,
        bookings=[],
    )
    span = [before_festival + timedelta(days=n) for n in range(1, _length(CN, before_festival))]
    days_off = [d for d in span if d.weekday() < 5 and not is_working_day(CN, d)]
    worked_weekends = [d for d in span if d.weekday() >= 5 and is_working_day(CN, d)]
    # The festival's weekdays off, by rule: 2027's schedule is not yet published.
    assert days_off and all("Chinese New Year" in (CN.day(d).note or "") for d in days_off)
    assert not any(CN.day(d).official for d in days_off)
    assert not worked_weekends
    # Longer by exactly its weekdays off: as many more weekdays pass before the ship date.
    assert weekdays_between(before_festival, plan["ship"]) == (
        weekdays_between(quiet, quiet + timedelta(days=_length(CN, quiet))) + len(days_off)
    )
    assert _length(CN, before_festival) > _length(CN, quiet)


def test_bookings_at_capacity_push_production_after_the_earliest_booking_end() -> None:
    free = propose_milestones(
        calendar=WEEK, today=MONDAY, design_days=5, lead_days=10, capacity=CAPACITY, bookings=[]
    )
    earliest = free["production_start"]
    first_out = add_working_days(WEEK, earliest, 3)
    bookings = [
        Booking(start=earliest - timedelta(days=7), end=first_out),
        Booking(start=earliest, end=add_working_days(WEEK, earliest, 20)),
    ]
    plan = propose_milestones(
        calendar=WEEK,
        today=MONDAY,
        design_days=5,
        lead_days=10,
        capacity=CAPACITY,
        bookings=bookings,
    )
    assert plan["production_start"] == next_working_day(WEEK, first_out + timedelta(days=1))
    assert plan["production_end"] == add_working_days(WEEK, plan["production_start"], 10)
    assert plan["ship"] > free["ship"]
    # What comes before production does not wait for the workshop.
    for name in ("design_done", "bom_release", "drawings_release", "material_required"):
        assert plan[name] == free[name]


def test_bookings_below_capacity_or_outside_the_window_do_not_delay_production() -> None:
    earliest = add_working_days(WEEK, MONDAY, 10)
    end = add_working_days(WEEK, earliest, CAPACITY.production_days)
    one = [Booking(start=earliest, end=end)]
    assert first_free_start(WEEK, earliest, CAPACITY, one) == earliest
    before = Booking(start=MONDAY - timedelta(days=30), end=earliest - timedelta(days=1))
    after = Booking(start=end + timedelta(days=1), end=end + timedelta(days=30))
    assert first_free_start(WEEK, earliest, CAPACITY, [before, after, *one]) == earliest


def test_full_workshop_queues_until_a_booking_ends_then_rechecks() -> None:
    capacity = Capacity(production_days=5, inspection_days=1, ship_days=1, workshop_capacity=1)
    earliest = MONDAY
    first = Booking(start=MONDAY, end=WEDNESDAY)
    # Starts right where the first one ends: the new order must queue behind both.
    second = Booking(start=WEDNESDAY + timedelta(days=1), end=NEXT_MONDAY + timedelta(days=1))
    start = first_free_start(WEEK, earliest, capacity, [first, second])
    assert start == NEXT_MONDAY + timedelta(days=2)
    assert is_working_day(WEEK, start)


@given(
    earliest=days,
    ends=st.lists(st.integers(min_value=0, max_value=60), min_size=0, max_size=6),
    workshop=st.integers(min_value=1, max_value=4),
)
def test_first_free_start_is_a_working_day_with_room_in_the_workshop(
    earliest: date, ends: list[int], workshop: int
) -> None:
    capacity = Capacity(10, 2, 2, workshop)
    bookings = [Booking(start=earliest, end=earliest + timedelta(days=n)) for n in ends]
    start = first_free_start(WEEK, earliest, capacity, bookings)
    assert start >= earliest and is_working_day(WEEK, start)
    end = add_working_days(WEEK, start, capacity.production_days)
    overlapping = [b for b in bookings if b.start <= end and b.end >= start]
    assert len(overlapping) < workshop


def forecast_from(start: date, gaps: list[int]) -> dict[str, date]:
    forecast, day = {}, start
    for name, gap in zip(MILESTONES, gaps, strict=True):
        day += timedelta(days=gap)
        forecast[name] = day
    return forecast


def test_shift_forecast_moves_the_slipped_milestone_and_every_later_one_by_the_slip() -> None:
    forecast = forecast_from(MONDAY, [0, 0, 2, 20, 1, 14, 2, 2])
    shifted = shift_forecast(
        forecast, forecast, "material_required", forecast["material_required"] + timedelta(days=5)
    )
    for name in MILESTONES:
        moved = (shifted[name] - forecast[name]).days
        later = MILESTONES.index(name) >= MILESTONES.index("material_required")
        assert moved == (5 if later else 0), name


def test_shift_forecast_never_moves_dates_earlier() -> None:
    forecast = forecast_from(MONDAY, [0, 0, 2, 20, 1, 14, 2, 2])
    earlier = shift_forecast(forecast, forecast, "production_start", MONDAY)
    same = shift_forecast(forecast, forecast, "production_start", forecast["production_start"])
    assert earlier == forecast and same == forecast
    assert earlier is not forecast


def test_shift_forecast_leaves_its_input_untouched() -> None:
    forecast = forecast_from(MONDAY, [0, 0, 2, 20, 1, 14, 2, 2])
    before = dict(forecast)
    shift_forecast(forecast, forecast, "design_done", forecast["design_done"] + timedelta(days=3))
    assert forecast == before


def test_two_milestones_slipping_the_same_day_move_the_rest_once_in_either_order() -> None:
    plan = forecast_from(MONDAY, [0, 0, 2, 20, 1, 14, 2, 2])  # design_done == bom_release
    new_date = plan["design_done"] + timedelta(days=4)
    design_first = shift_forecast(
        plan, shift_forecast(plan, plan, "design_done", new_date), "bom_release", new_date
    )
    bom_first = shift_forecast(
        plan, shift_forecast(plan, plan, "bom_release", new_date), "design_done", new_date
    )
    assert design_first == bom_first
    assert design_first["ship"] == plan["ship"] + timedelta(days=4)


@given(
    start=days,
    gaps=st.lists(st.integers(min_value=0, max_value=40), min_size=8, max_size=8),
    slipped=st.sampled_from(MILESTONES),
    move=st.integers(min_value=-60, max_value=60),
)
def test_shift_forecast_property_never_earlier_and_later_milestones_slip_alike(
    start: date, gaps: list[int], slipped: str, move: int
) -> None:
    forecast = forecast_from(start, gaps)
    new_date = forecast[slipped] + timedelta(days=move)
    shifted = shift_forecast(forecast, forecast, slipped, new_date)
    slip = max(move, 0)
    assert set(shifted) == set(forecast)
    for name in MILESTONES:
        assert shifted[name] >= forecast[name]
        expected = slip if MILESTONES.index(name) >= MILESTONES.index(slipped) else 0
        assert (shifted[name] - forecast[name]).days == expected
    assert shifted[slipped] == max(new_date, forecast[slipped])
    # The process order of the forecast survives the shift.
    assert [shifted[n] for n in MILESTONES] == sorted(shifted[n] for n in MILESTONES)
