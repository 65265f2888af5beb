"""Which scheduled runs work on the plant's day (shared/plant_days.py), and reporting periods cut
at the plant's local midnights (shared/periods.py): pure, on the default calendar (Shanghai,
MON-FRI, China's public holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.periods import local_date, parse_month, parse_week, previous_month, previous_week
from shared.plant_days import daily_mrp_day, last_weekday, unshipped_day
from tests.plant_calendar import plant_calendar

CN = plant_calendar()
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 6) -> datetime:
    """The instant of `hour`:00 in Shanghai on `day`."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def test_daily_mrp_runs_on_working_days_and_skips_weekends_and_holidays() -> None:
    friday = date(2026, 11, 27)
    ran = daily_mrp_day(CN, at(friday))
    assert (ran.day, ran.working, ran.runs) == (friday, True, True)
    weekend = daily_mrp_day(CN, at(friday + timedelta(days=1)))
    assert not weekend.runs and weekend.reason.startswith("skipped:")
    assert "not a working day" in weekend.reason
    national_day = daily_mrp_day(CN, at(date(2026, 10, 2)))
    assert not national_day.runs and "National Day" in national_day.reason
    # A make-up Saturday (调休) is worked: the run works too.
    assert daily_mrp_day(CN, at(date(2026, 10, 10))).runs


def test_the_run_takes_the_plants_local_date_not_utcs() -> None:
    # 23:00 UTC on Sunday is 07:00 on Monday in Shanghai: a working day.
    sunday_night = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    plant = daily_mrp_day(CN, sunday_night)
    assert plant.day == date(2026, 11, 30) and plant.runs


def test_last_weekday_is_the_latest_one_on_or_before_the_day() -> None:
    wednesday = date(2026, 11, 25)
    assert last_weekday(wednesday, "WED") == wednesday
    assert last_weekday(wednesday, "MON") == date(2026, 11, 23)
    assert last_weekday(wednesday, "THU") == date(2026, 11, 19)
    assert last_weekday(wednesday, "SUN") == date(2026, 11, 22)


def test_unshipped_list_runs_on_its_weekday_only_when_that_day_works() -> None:
    monday = date(2026, 11, 23)
    assert unshipped_day(CN, at(monday), "MON").runs
    for n in range(1, 7):
        assert not unshipped_day(CN, at(monday + timedelta(days=n)), "MON").runs


def test_unshipped_list_moves_to_the_next_working_day_when_its_weekday_is_off() -> None:
    # National Day 2026: Thursday Oct 1 to Wednesday Oct 7 off; Thursday Oct 8 works.
    for day in (date(2026, 10, 1) + timedelta(days=n) for n in range(7)):
        assert not unshipped_day(CN, at(day), "THU").runs, day
    # Thursday Oct 1's list falls on Thursday Oct 8, its next Thursday: one list, not two.
    assert unshipped_day(CN, at(date(2026, 10, 8)), "THU").runs
    moved = unshipped_day(CN, at(date(2026, 10, 8)), "WED")
    assert moved.runs and "WED 2026-10-07 was not a working day" in moved.reason
    # A Monday list: Monday Oct 5 is off, and the next working day is Thursday Oct 8.
    assert [
        d.day
        for d in (unshipped_day(CN, at(date(2026, 10, 5) + timedelta(n)), "MON") for n in range(7))
        if d.runs
    ] == [date(2026, 10, 8)]


def test_a_holiday_spanning_two_list_days_makes_one_list() -> None:
    # 2027's Spring Festival (by rule): Friday Feb 5 to Wednesday Feb 10 off. A Friday list:
    # Feb 5 is off, the next working day is Thursday Feb 11; Friday Feb 12 is its own day.
    days = [date(2027, 2, 1) + timedelta(days=n) for n in range(14)]
    runs = [d for d in days if unshipped_day(CN, at(d), "FRI").runs]
    assert runs == [date(2027, 2, 11), date(2027, 2, 12)]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_periods_are_cut_at_the_plants_local_midnights(zone: str) -> None:
    week = parse_week("2026-W48", zone)
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 30))
    assert week.start_at == datetime(2026, 11, 23, tzinfo=ZoneInfo(zone))
    assert week.end_at == datetime(2026, 11, 30, tzinfo=ZoneInfo(zone))
    month = parse_month("2026-11", zone)
    assert month.start_at.astimezone(ZoneInfo(zone)).time() == time(0)


def test_shanghai_week_starts_at_16_00_utc_on_sunday() -> None:
    week = parse_week("2026-W48", "Asia/Shanghai")
    assert week.start_at.astimezone(UTC) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


def test_the_friday_run_reports_the_previous_week_and_the_first_the_previous_month() -> None:
    friday = date(2026, 11, 27)
    assert previous_week(friday, "Asia/Shanghai").label == "2026-W47"
    assert previous_week(date(2027, 1, 8)).label == "2026-W53"
    assert previous_month(date(2026, 12, 1), "Asia/Shanghai").label == "2026-11"
    # 17:00 UTC on Sunday Nov 29 is already Monday Nov 30 (W49) in Shanghai.
    monday = local_date(datetime(2026, 11, 29, 17, 0, tzinfo=UTC), "Asia/Shanghai")
    assert previous_week(monday, "Asia/Shanghai").label == "2026-W48"
