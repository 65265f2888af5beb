"""The rules of one local day: whether a date is worked, with which shifts and why, decided by
the plant's exceptions over the public holidays and make-up working days over the work week;
and the few dates where those differ from the plain work week (pure functions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from shared.working_time.data import CalendarData, WorkDay


def work_day(data: CalendarData, day: date) -> WorkDay:
    """What the local date `day` is under `data` (`FactoryCalendar.day` says the order of the
    rules): the plant's exceptions first, then the public calendar, then the work week."""
    ruling = [e for e in data.exceptions if e.start <= day <= e.end]
    usual = _usual_day(data, day)
    off = [e for e in ruling if e.kind == "day_off"]
    if off:
        return WorkDay(day, False, (), off[-1].reason)
    extra = [e for e in ruling if e.kind == "working_day"]
    changed = [e for e in ruling if e.kind == "shifts" and e.shifts]
    if extra:
        shifts = extra[-1].shifts or data.shifts
        note: str | None = extra[-1].reason
        working = True
    else:
        shifts, note, working = usual.shifts, usual.note, usual.working
    if working and changed:
        shifts, note = changed[-1].shifts, changed[-1].reason
    if not extra and not changed:
        return usual
    return WorkDay(day, working and bool(shifts), shifts if working else (), note)


def _usual_day(data: CalendarData, day: date) -> WorkDay:
    public = data.public
    official = public.official_through is None or day.year <= public.official_through
    holiday = public.holidays.get(day)
    if holiday is not None:
        return WorkDay(day, False, (), holiday, official)
    make_up = public.working_weekends.get(day)
    if make_up is not None:
        note = f"make-up working day ({make_up})"
        return WorkDay(day, bool(data.shifts), data.shifts, note, official)
    if day.weekday() in data.work_week:
        return WorkDay(day, bool(data.shifts), data.shifts, None)
    return WorkDay(day, False, (), "weekend")


def special_dates(data: CalendarData, first: date, last: date) -> set[date]:
    """The dates in first..last that may differ from the plain work week: public holidays,
    make-up working days and the days of the plant's exceptions."""
    public = data.public
    found = {d for d in public.holidays if first <= d <= last}
    found |= {d for d in public.working_weekends if first <= d <= last}
    for exception in data.exceptions:
        found.update(dates(max(first, exception.start), min(last, exception.end)))
    return found


def dates(first: date, last: date) -> Iterator[date]:
    """The dates first..last (inclusive), safe up to date.max."""
    day = first
    while day <= last:
        yield day
        if day == date.max:
            return
        day += timedelta(days=1)


def weekdays_in(first: date, last: date, week: frozenset[int]) -> int:
    """How many dates in first..last fall on a weekday of `week`."""
    total = (last - first).days + 1
    weeks, extra = divmod(total, 7)
    start = first.weekday()
    return weeks * len(week) + sum(1 for i in range(extra) if (start + i) % 7 in week)
