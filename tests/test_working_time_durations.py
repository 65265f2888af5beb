"""The factory calendar's durations (issue 13): working time counted inside the shifts, whole
days as working days, backwards from a start, on the wall basis, and through daylight saving
time changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.plant_calendar import HOUR, berlin, calendar, shanghai

# -- durations ----------------------------------------------------------------------------------


def test_a_start_outside_working_hours_moves_to_the_next_period() -> None:
    cal = calendar()
    friday = shanghai(2026, 12, 4, 17, 45)
    assert cal.add_working(friday, HOUR) == shanghai(2026, 12, 7, 9)
    assert cal.add_working(friday, HOUR).tzinfo is UTC
    assert cal.next_working_instant(friday) == shanghai(2026, 12, 7, 8)
    assert cal.next_working_instant(shanghai(2026, 12, 7, 12, 10)) == shanghai(2026, 12, 7, 13)
    assert cal.next_working_instant(shanghai(2026, 12, 7, 9)) == shanghai(2026, 12, 7, 9)


def test_a_duration_ends_at_the_end_of_a_shift_not_the_start_of_the_next() -> None:
    cal = calendar()
    assert cal.add_working(shanghai(2026, 12, 7, 8), 4 * HOUR) == shanghai(2026, 12, 7, 12)
    assert cal.add_working(shanghai(2026, 12, 7, 8), 8 * HOUR + 30 * timedelta(minutes=1)) == (
        shanghai(2026, 12, 7, 17, 30)
    )


def test_whole_days_count_working_days_at_the_same_time_of_day() -> None:
    cal = calendar()
    assert cal.add_working(shanghai(2026, 12, 3, 10), timedelta(days=3)) == shanghai(
        2026, 12, 8, 10
    )
    assert cal.add_working(shanghai(2026, 12, 4, 17, 45), timedelta(days=1)) == shanghai(
        2026, 12, 8, 8
    )
    assert cal.add_working(shanghai(2026, 12, 3, 17), timedelta(days=1, hours=1)) == shanghai(
        2026, 12, 7, 8, 30
    )


def test_zero_durations_return_the_start_unchanged() -> None:
    saturday = shanghai(2026, 12, 5, 3)
    for cal in (calendar(), calendar(clock_basis="wall")):
        assert cal.add_working(saturday, timedelta(0)) == saturday
        assert cal.add_working(saturday, timedelta(0)).tzinfo is UTC
        assert cal.working_between(saturday, saturday) == timedelta(0)


def test_negative_durations_count_back_from_production_start() -> None:
    cal = calendar()
    monday = shanghai(2026, 12, 7, 8)
    assert cal.add_working(monday, -4 * HOUR) == shanghai(2026, 12, 4, 13, 30)
    assert cal.add_working(monday, -timedelta(days=3)) == shanghai(2026, 12, 2, 8)
    # Outside working time it first moves back to the end of the previous period.
    assert cal.add_working(shanghai(2026, 12, 6, 10), -HOUR) == shanghai(2026, 12, 4, 16, 30)
    assert cal.add_working(shanghai(2026, 12, 7, 12, 30), -HOUR) == shanghai(2026, 12, 7, 11)
    # Back over the National Day week.
    assert cal.add_working(shanghai(2026, 10, 8, 9), -2 * HOUR) == shanghai(2026, 9, 30, 16, 30)


def test_working_between_counts_only_shifts() -> None:
    cal = calendar()
    assert cal.working_between(shanghai(2026, 12, 4, 0), shanghai(2026, 12, 8, 0)) == timedelta(
        hours=17
    )
    assert cal.working_between(shanghai(2026, 12, 7, 11), shanghai(2026, 12, 7, 14)) == 2 * HOUR
    assert cal.working_between(shanghai(2026, 12, 8), shanghai(2026, 12, 7)) == timedelta(0)


def test_the_wall_basis_counts_elapsed_time_but_days_follow_the_calendar() -> None:
    cal = calendar(clock_basis="wall")
    friday = shanghai(2026, 12, 4, 17, 45)
    assert cal.add_working(friday, HOUR) == friday + HOUR
    assert cal.add_working(friday, -timedelta(days=3)) == friday - timedelta(days=3)
    assert cal.working_between(friday, friday + timedelta(days=2)) == timedelta(days=2)
    assert cal.working_between(friday, friday - HOUR) == timedelta(0)
    assert cal.next_working_instant(friday) == friday
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_instants_must_carry_a_zone() -> None:
    cal = calendar()
    with pytest.raises(ValueError, match="no time zone"):
        cal.add_working(datetime(2026, 12, 7, 8), HOUR)
    with pytest.raises(ValueError, match="no time zone"):
        cal.local_date(datetime(2026, 12, 7, 8))


# -- daylight saving time -----------------------------------------------------------------------


def test_berlin_spring_forward_keeps_the_shifts_in_local_time() -> None:
    cal = calendar(timezone="Europe/Berlin", holidays_country="DE", work_week="MON-SUN")
    # Sunday 29 March 2026: 02:00 becomes 03:00. The shifts cross nothing; the day is 23 h.
    assert cal.day_start(date(2026, 3, 29)) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    assert cal.add_working(berlin(2026, 3, 28, 17), HOUR) == berlin(2026, 3, 29, 8, 30)
    saturday_to_monday = cal.working_between(berlin(2026, 3, 28, 8), berlin(2026, 3, 30, 8))
    assert saturday_to_monday == timedelta(hours=17)


def test_berlin_fall_back_keeps_the_shifts_in_local_time() -> None:
    cal = calendar(timezone="Europe/Berlin", holidays_country="DE", work_week="MON-SUN")
    # Sunday 25 October 2026: 03:00 becomes 02:00 again; the day is 25 h.
    assert cal.day_start(date(2026, 10, 25)) == datetime(2026, 10, 25, 7, tzinfo=UTC)
    assert cal.add_working(berlin(2026, 10, 24, 17), HOUR) == berlin(2026, 10, 25, 8, 30)
    assert cal.working_between(berlin(2026, 10, 24, 8), berlin(2026, 10, 26, 8)) == timedelta(
        hours=17
    )


def test_berlin_night_shifts_count_their_real_elapsed_time() -> None:
    cal = calendar(
        timezone="Europe/Berlin", holidays_country="none", shifts="00:00-06:00", work_week="SUN"
    )
    spring, fall = (
        cal.periods(date(2026, 3, 29), date(2026, 3, 29)),
        cal.periods(date(2026, 10, 25), date(2026, 10, 25)),
    )
    assert [p.end - p.start for p in spring] == [5 * HOUR]
    assert [p.end - p.start for p in fall] == [7 * HOUR]
    # A shift starting inside the spring-forward gap starts at the first instant there is.
    gap = calendar(
        timezone="Europe/Berlin", holidays_country="none", shifts="02:30-06:00", work_week="SUN"
    )
    (period,) = gap.periods(date(2026, 3, 29), date(2026, 3, 29))
    assert period.start == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST
    assert period.end - period.start == 3 * HOUR
    # A shift ending inside the repeated hour ends at its second occurrence.
    repeated = calendar(
        timezone="Europe/Berlin", holidays_country="none", shifts="01:00-02:30", work_week="SUN"
    )
    (period,) = repeated.periods(date(2026, 10, 25), date(2026, 10, 25))
    assert period.end == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert period.end - period.start == 2 * HOUR + 30 * timedelta(minutes=1)
    # Two shifts meeting inside the repeated hour neither overlap nor lose time.
    meeting = calendar(
        timezone="Europe/Berlin",
        holidays_country="none",
        shifts="01:00-02:30,02:30-09:00",
        work_week="SUN",
    )
    first, second = meeting.periods(date(2026, 10, 25), date(2026, 10, 25))
    assert first.end == second.start
    day = meeting.working_between(berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 12))
    assert day == 9 * HOUR
