"""The factory calendar's days (issue 13): the plant's zone, work week, public holidays with
China's make-up working days, and the plant's exceptions; durations and daylight saving time are
in test_working_time_durations.py, the text of shifts and work weeks and the settings in
test_working_time_settings.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.working_time.data import Shift, WorkDay
from shared.working_time.public import public_calendar
from tests.plant_calendar import BERLIN, HOUR, SHANGHAI, berlin, calendar, off, shanghai

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
