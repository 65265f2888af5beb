"""Properties of the factory calendar (issue 13) over generated plants: zones with and without
daylight saving time, day and night shifts, odd work weeks, China's and Germany's public
holidays and random plant exceptions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.working_time.calendar import FactoryCalendar
from shared.working_time.data import CalendarData, CalendarException, PublicCalendar, Shift
from shared.working_time.public import public_calendar
from shared.working_time.text import parse_shifts

ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
# Day shifts, a split night shift (round the clock with one break), a shift starting in
# Berlin's spring-forward gap and one ending in its repeated autumn hour.
SHIFTS = (
    "08:00-12:00,13:00-17:30",
    "00:00-06:00,22:00-24:00",
    "02:30-06:00,07:00-15:00",
    "01:00-02:30,02:30-09:00",
    "06:00-14:00,14:00-22:00",
)
YEARS = range(2025, 2028)
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)
FAST = settings(max_examples=60, deadline=None)


@cache
def public(country: str | None) -> PublicCalendar:
    """The public calendar of `country` over the test years (built once)."""
    return public_calendar(country, YEARS)


exceptions = st.lists(
    st.builds(
        CalendarException,
        id=st.integers(1, 99),
        kind=st.sampled_from(["day_off", "working_day", "shifts"]),
        start=st.dates(date(2025, 1, 1), date(2027, 11, 1)),
        end=st.just(date(2025, 1, 1)),
        reason=st.just("plant"),
        shifts=st.sampled_from([(), (Shift(480, 600),), (Shift(600, 1440),)]),
    ).map(lambda e: replace(e, end=e.start + timedelta(days=e.id % 10))),
    max_size=3,
)


@st.composite
def calendars(draw: st.DrawFn) -> FactoryCalendar:
    """A generated plant's calendar; at least one working weekday."""
    week = draw(st.frozensets(st.integers(0, 6), min_size=1))
    data = CalendarData(
        zone=draw(st.sampled_from(ZONES)),
        shifts=parse_shifts(draw(st.sampled_from(SHIFTS))),
        work_week=week,
        public=public(draw(st.sampled_from(["CN", "DE", None]))),
        exceptions=tuple(draw(exceptions)),
    )
    return FactoryCalendar(data)


# Any instant of the test years, and often one within days of a daylight saving change
# (Berlin and New York, spring and autumn 2026).
TRANSITIONS = (
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
)
instants = st.one_of(
    st.datetimes(FIRST.replace(tzinfo=None), LAST.replace(tzinfo=None), timezones=st.just(UTC)),
    st.builds(
        lambda at, offset: at + offset,
        st.sampled_from(TRANSITIONS),
        st.timedeltas(-timedelta(days=3), timedelta(days=3)),
    ),
).map(lambda t: t.replace(microsecond=0))
# Working durations without whole days (whole days count working days, not hours).
within_a_day = st.timedeltas(timedelta(0), timedelta(hours=23, minutes=59, seconds=59)).map(
    lambda d: timedelta(seconds=int(d.total_seconds()))
)
days = st.dates(date(2025, 1, 1), date(2027, 6, 1))


@FAST
@given(calendars(), instants, within_a_day)
def test_working_between_measures_what_add_working_added(
    cal: FactoryCalendar, start: datetime, duration: timedelta
) -> None:
    end = cal.add_working(start, duration)
    assert end.tzinfo is UTC and end >= start
    assert cal.working_between(start, end) == duration
    before = cal.add_working(start, -duration)
    assert before <= start
    assert cal.working_between(before, start) == duration


@FAST
@given(calendars(), instants, within_a_day, within_a_day)
def test_add_working_is_monotonic_in_the_duration(
    cal: FactoryCalendar, start: datetime, one: timedelta, other: timedelta
) -> None:
    shorter, longer = sorted((one, other))
    assert cal.add_working(start, shorter) <= cal.add_working(start, longer)
    assert cal.add_working(start, -shorter) >= cal.add_working(start, -longer)


@FAST
@given(calendars(), instants, st.integers(0, 30))
def test_whole_days_are_monotonic_and_land_on_working_days(
    cal: FactoryCalendar, start: datetime, n: int
) -> None:
    here, there = (
        cal.add_working(start, timedelta(days=n)),
        cal.add_working(start, timedelta(days=n + 1)),
    )
    # Strictly later unless changed shifts push both to the same next period.
    assert here < there or (here == there and cal.data.exceptions)
    assert cal.is_working_day(cal.local_date(there))


@FAST
@given(calendars(), instants)
def test_next_working_instant_is_idempotent_and_in_a_period(
    cal: FactoryCalendar, instant: datetime
) -> None:
    found = cal.next_working_instant(instant)
    assert found >= instant and found.tzinfo is UTC
    assert cal.next_working_instant(found) == found
    day = cal.local_date(found)
    around = cal.periods(day - timedelta(days=1), day)
    assert any(p.start <= found < p.end for p in around)
    # Nothing of working time lies between the instant and the one found.
    assert cal.working_between(instant, found) == timedelta(0)


@FAST
@given(calendars(), days, st.integers(-40, 40))
def test_add_working_days_counts_working_days(cal: FactoryCalendar, day: date, n: int) -> None:
    start = cal.next_working_day(day)
    found = cal.add_working_days(start, n)
    assert cal.is_working_day(found)
    if n >= 0:
        assert cal.working_days_between(start, found) == n
    else:
        assert cal.working_days_between(found, start) == -n
    periods = cal.periods(start, start)
    assert cal.day_start(start) == periods[0].start
    assert cal.day_end(start) == periods[-1].end


@FAST
@given(calendars(), days, days)
def test_working_days_between_counts_the_days_one_by_one(
    cal: FactoryCalendar, one: date, other: date
) -> None:
    start, end = sorted((one, other))
    end = min(end, start + timedelta(days=120))
    by_day = sum(
        cal.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )
    assert cal.working_days_between(start, end) == by_day
    assert cal.working_days_between(end, start) == 0


BASE = CalendarData(
    zone="Asia/Shanghai",
    shifts=(Shift(480, 720), Shift(780, 1050)),
    work_week=frozenset(range(5)),
    public=PublicCalendar("CN", {date(2026, 10, 1): "National Day"}, {}, 2026),
    exceptions=(CalendarException(1, "day_off", date(2026, 12, 7), date(2026, 12, 7), "audit"),),
)
CHANGES = st.sampled_from(
    [
        {"zone": "Asia/Chongqing"},
        {"shifts": (Shift(480, 720),)},
        {"work_week": frozenset(range(6))},
        {"basis": "wall"},
        {"exceptions": ()},
        {"exceptions": (replace(BASE.exceptions[0], end=date(2026, 12, 8)),)},
        {"exceptions": (replace(BASE.exceptions[0], kind="working_day"),)},
        {"exceptions": (replace(BASE.exceptions[0], reason="stock-take"),)},
        {"exceptions": (replace(BASE.exceptions[0], shifts=(Shift(0, 60),)),)},
        {"public": replace(BASE.public, country="DE")},
        {"public": replace(BASE.public, holidays={date(2026, 10, 2): "National Day"})},
        {"public": replace(BASE.public, holidays={date(2026, 10, 1): "Golden Week"})},
        {"public": replace(BASE.public, working_weekends={date(2026, 10, 10): "National Day"})},
        {"public": replace(BASE.public, official_through=2027)},
    ]
)


@settings(max_examples=30, deadline=None)
@given(CHANGES)
def test_the_version_changes_with_any_data(change: dict[str, object]) -> None:
    changed = replace(BASE, **change)  # type: ignore[arg-type]
    assert changed.version != BASE.version
    assert replace(BASE).version == BASE.version
    assert FactoryCalendar(changed).version == changed.version
