"""The factory calendar (issue 13): the plant's zone, shifts, work week, public holidays with
China's make-up working days, and the plant's exceptions, counted in working time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shared.settings import Settings
from shared.working_time.calendar import FactoryCalendar
from shared.working_time.data import CalendarException, ExceptionKind, Shift, WorkDay
from shared.working_time.public import public_calendar
from shared.working_time.text import (
    format_shifts,
    format_work_week,
    parse_shifts,
    parse_work_week,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def calendar(
    exceptions: tuple[CalendarException, ...] = (), years: range = range(2025, 2028), **changes: Any
) -> FactoryCalendar:
    """The calendar of the default settings (Shanghai, 08:00-12:00/13:00-17:30, MON-FRI, CN)
    with `changes`."""
    settings = Settings(**changes)
    public = public_calendar(settings.holidays_country, years)
    return FactoryCalendar(settings.calendar_data(public, exceptions))


def shanghai(*parts: int) -> datetime:
    """The instant of a wall time in Shanghai (year, month, day, hour[, minute])."""
    return datetime(*parts).replace(tzinfo=SHANGHAI)  # type: ignore[arg-type]


def berlin(*parts: int) -> datetime:
    """The instant of a wall time in Berlin."""
    return datetime(*parts).replace(tzinfo=BERLIN)  # type: ignore[arg-type]


def off(
    day: date,
    reason: str = "stock-take",
    kind: ExceptionKind = "day_off",
    end: date | None = None,
    shifts: tuple[Shift, ...] = (),
) -> CalendarException:
    """A plant exception for `day` (to `end`), a day off unless `kind` says otherwise."""
    return CalendarException(1, kind, day, end or day, reason, shifts)


# -- days ---------------------------------------------------------------------------------------


def test_spring_festival_2026_has_its_official_days_off_and_make_up_saturdays() -> None:
    cal = calendar()
    assert cal.is_working_day(date(2026, 2, 13))
    for saturday in (date(2026, 2, 14), date(2026, 2, 28)):
        day = cal.day(saturday)
        assert day.working and day.official
        assert day.note is not None and day.note.startswith("make-up working day (")
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert cal.day(date(2026, 2, 17)).note == "Chinese New Year (Spring Festival)"
    assert cal.is_working_day(date(2026, 2, 24))
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_spring_festival_2027_follows_the_rule_and_is_not_official() -> None:
    cal = calendar()
    festival = cal.day(date(2027, 2, 8))
    assert not festival.working and festival.official is False
    assert cal.day(date(2027, 2, 3)) == WorkDay(date(2027, 2, 3), True, cal.data.shifts, None)
    # Four weekdays off (5 and 8 to 10 February): a plan across them is four days longer.
    assert cal.working_days_between(date(2027, 2, 1), date(2027, 2, 15)) == 10 - 4


def test_an_ordinary_day_and_a_weekend() -> None:
    cal = calendar()
    assert cal.day(date(2026, 12, 5)) == WorkDay(date(2026, 12, 5), False, (), "weekend")
    assert cal.day(date(2026, 12, 4)).shifts == (Shift(480, 720), Shift(780, 1050))
    assert cal.local_date(datetime(2026, 12, 4, 17, tzinfo=UTC)) == date(2026, 12, 5)


def test_a_duration_spans_the_national_day_week() -> None:
    cal = calendar()
    assert not any(cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    # 1.5 h on 30 September, then 6.5 h on 8 October after the week off.
    assert cal.add_working(shanghai(2026, 9, 30, 16), 8 * HOUR) == shanghai(2026, 10, 8, 15, 30)
    assert cal.working_between(shanghai(2026, 9, 30, 16), shanghai(2026, 10, 8, 15, 30)) == (
        8 * HOUR
    )
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    # The make-up Sunday before and the make-up Saturday after are working days.
    assert cal.add_working(shanghai(2026, 9, 18, 17), HOUR) == shanghai(2026, 9, 20, 8, 30)
    assert cal.add_working(shanghai(2026, 10, 9, 17, 30), HOUR) == shanghai(2026, 10, 10, 9)
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_the_year_end_skips_new_years_day() -> None:
    # Germany: 31 December 2025 (Wednesday), New Year's Day off, 2 January a working Friday.
    berlin_cal = calendar(timezone="Europe/Berlin", holidays_country="DE")
    assert berlin_cal.add_working(berlin(2025, 12, 31, 16), 4 * HOUR) == berlin(2026, 1, 2, 10, 30)
    assert berlin_cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 2)
    # China: 2 January 2026 is a day off, paid for by working Sunday 4 January.
    china = calendar()
    assert not china.is_working_day(date(2026, 1, 2))
    assert china.add_working(shanghai(2025, 12, 31, 17), HOUR) == shanghai(2026, 1, 4, 8, 30)
    # No public holidays: the year end is an ordinary Thursday to Friday.
    plain = calendar(holidays_country="none")
    assert plain.add_working(shanghai(2026, 12, 31, 17), HOUR) == shanghai(2027, 1, 1, 8, 30)


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


# -- the plant's exceptions ---------------------------------------------------------------------


def test_exceptions_override_public_holidays_and_the_work_week() -> None:
    extra = off(date(2026, 10, 5), "rush order", kind="working_day", shifts=(Shift(480, 720),))
    cal = calendar((extra,))
    day = cal.day(date(2026, 10, 5))
    assert day.working and day.note == "rush order" and day.shifts == (Shift(480, 720),)
    assert cal.add_working(shanghai(2026, 9, 30, 17, 30), HOUR) == shanghai(2026, 10, 5, 9)
    saturday = calendar((off(date(2026, 12, 5), "audit", kind="working_day"),))
    assert saturday.day(date(2026, 12, 5)).shifts == saturday.data.shifts
    shutdown = calendar((off(date(2026, 12, 7), "shutdown", end=date(2026, 12, 8)),))
    assert shutdown.day(date(2026, 12, 8)) == WorkDay(date(2026, 12, 8), False, (), "shutdown")
    assert shutdown.add_working(shanghai(2026, 12, 4, 17), HOUR) == shanghai(2026, 12, 9, 8, 30)


def test_changed_shifts_apply_on_the_working_days_of_their_range() -> None:
    short = off(
        date(2026, 12, 4),
        "short week",
        kind="shifts",
        end=date(2026, 12, 6),
        shifts=(Shift(480, 600),),
    )
    cal = calendar((short,))
    assert cal.day(date(2026, 12, 4)).shifts == (Shift(480, 600),)
    assert not cal.is_working_day(date(2026, 12, 5))
    assert cal.day_end(date(2026, 12, 4)) == shanghai(2026, 12, 4, 10)
    assert cal.add_working(shanghai(2026, 12, 4, 9), 2 * HOUR) == shanghai(2026, 12, 7, 9)


def test_a_calendar_without_working_days_fails_clearly() -> None:
    shutdown = off(date(2026, 1, 1), "closed", end=date(2040, 1, 1))
    cal = calendar((shutdown,))
    with pytest.raises(ValueError, match="no working day within"):
        cal.next_working_day(date(2026, 6, 1))
    with pytest.raises(ValueError, match="no working time within"):
        cal.add_working(shanghai(2026, 6, 1, 9), HOUR)


# -- the ends of the calendar -------------------------------------------------------------------


def test_the_first_and_last_dates_do_not_raise() -> None:
    cal = calendar()
    assert cal.day_end(date.max) == shanghai(9999, 12, 31, 17, 30)
    assert cal.day_start(date.max) == shanghai(9999, 12, 31, 8)
    weekend_end = calendar(work_week="MON-THU")
    assert weekend_end.day_end(date.max) == datetime.max.replace(tzinfo=UTC)
    assert weekend_end.day_start(date.max) == datetime.max.replace(tzinfo=UTC)
    west = calendar(timezone="America/New_York", holidays_country="US")
    assert west.day_end(date.max) == datetime(9999, 12, 31, 22, 30, tzinfo=UTC)
    late = calendar(timezone="America/New_York", holidays_country="US", shifts="20:00-24:00")
    assert late.day_end(date.max) == datetime.max.replace(tzinfo=UTC)
    assert west.day_start(date.min).year == 1
    assert cal.local_date(datetime.max.replace(tzinfo=UTC)) == date.max
    assert cal.working_days_between(date(2026, 1, 1), date.max) > 2_000_000
    never = cal.working_between(shanghai(2026, 12, 7, 9), datetime.max.replace(tzinfo=UTC))
    assert never > timedelta(days=700_000)


@pytest.mark.parametrize(("zone", "country"), [(SHANGHAI, "CN"), (BERLIN, "DE")])
def test_a_span_of_decades_counts_like_day_by_day(zone: ZoneInfo, country: str) -> None:
    cal = calendar(years=range(2025, 2045), timezone=zone.key, holidays_country=country)
    start = datetime(2026, 3, 2, 10, tzinfo=zone)
    end = datetime(2044, 7, 1, 9, tzinfo=zone)
    overlaps = (
        min(end, p.end) - max(start, p.start) for p in cal.periods(date(2026, 3, 2), end.date())
    )
    by_day = sum((o for o in overlaps if o > timedelta(0)), timedelta(0))
    assert cal.working_between(start, end) == by_day


# -- public holidays ----------------------------------------------------------------------------


def test_public_calendar_knows_the_last_published_year() -> None:
    china = public_calendar("cn", range(2026, 2028))
    assert china.country == "CN" and china.official_through == 2026
    assert date(2026, 9, 20) in china.working_weekends
    assert date(2027, 2, 8) in china.holidays
    assert public_calendar("CN", range(2026, 2028)) is china
    assert public_calendar("DE", range(2026, 2027)).official_through is None
    assert public_calendar("none", range(2026, 2027)).holidays == {}
    assert public_calendar(None, range(2026, 2027)).country is None
    with pytest.raises(ValueError, match=r"knows \d+ .*e\.g\. CN"):
        public_calendar("XX", range(2026, 2027))


# -- text ---------------------------------------------------------------------------------------


def test_shifts_and_work_weeks_read_as_people_write_them() -> None:
    assert parse_shifts("08:00-12:00, 13:00-17:30") == (Shift(480, 720), Shift(780, 1050))
    assert parse_shifts("00:00-06:00,22:00-24:00") == (Shift(0, 360), Shift(1320, 1440))
    assert format_shifts(parse_shifts("00:00-06:00,22:00-24:00")) == "00:00-06:00,22:00-24:00"
    assert parse_work_week("MON-FRI") == frozenset(range(5))
    assert parse_work_week("mon,tue,thu") == frozenset({0, 1, 3})
    assert parse_work_week("MON-SAT") == frozenset(range(6))
    assert parse_work_week("SAT-MON") == frozenset({5, 6, 0})
    assert format_work_week(frozenset({4, 0})) == "MON,FRI"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no shifts"),
        ("08:00", "START-END"),
        ("12:00-08:00", "ends before it starts"),
        ("08:00-12:00,11:00-13:00", "starts before the shift before it"),
        ("13:00-17:00,08:00-12:00", "in order"),
        ("08:00-24:01", "outside 00:00 to 24:00"),
        ("24:00-24:00", "ends before it starts"),
        ("8h-12h", "not a time"),
    ],
)
def test_bad_shifts_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_shifts(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "no working weekdays"), ("MON-FRX", "MON, TUE, WED"), ("MON-TUE-WED", "range")],
)
def test_bad_work_weeks_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_work_week(text)


# -- settings -----------------------------------------------------------------------------------


def test_the_default_settings_are_a_chinese_plant() -> None:
    settings = Settings()
    data = settings.calendar_data(public_calendar(settings.holidays_country, range(2026, 2027)))
    assert data.zone == "Asia/Shanghai" and data.basis == "working"
    assert data.shifts == (Shift(480, 720), Shift(780, 1050))
    assert data.work_week == frozenset(range(5))
    assert data.public.country == "CN"
    assert Settings(holidays_country="none").holidays_country == "none"
    assert Settings(holidays_country="de").holidays_country == "DE"


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"timezone": "Asia/Beijing"}, "ORDERFLOW_TIMEZONE"),
        ({"timezone": ""}, "ORDERFLOW_TIMEZONE"),
        ({"shifts": "08:00-12:00,11:00-17:30"}, "ORDERFLOW_SHIFTS"),
        ({"shifts": "8-17"}, "ORDERFLOW_SHIFTS"),
        ({"work_week": "MO-FR"}, "ORDERFLOW_WORK_WEEK"),
        ({"work_week": ""}, "ORDERFLOW_WORK_WEEK"),
        ({"holidays_country": "ZZ"}, "ORDERFLOW_HOLIDAYS_COUNTRY"),
        ({"clock_basis": "elapsed"}, "clock_basis"),
    ],
)
def test_bad_calendar_settings_name_their_variable(changes: dict[str, Any], variable: str) -> None:
    with pytest.raises(ValidationError, match=variable):
        Settings(**changes)


def test_calendar_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("ORDERFLOW_SHIFTS", "06:00-14:00")
    monkeypatch.setenv("ORDERFLOW_WORK_WEEK", "MON-SAT")
    monkeypatch.setenv("ORDERFLOW_CLOCK_BASIS", "wall")
    data = Settings().calendar_data(public_calendar(None, range(2026, 2027)))
    assert (data.zone, data.shifts, data.work_week, data.basis) == (
        "Europe/Berlin",
        (Shift(360, 840),),
        frozenset(range(6)),
        "wall",
    )
