"""The factory calendar: pure functions over calendar data (no I/O, no clock reads).

Instants are timezone-aware datetimes (any zone in, UTC out); days are local dates in the
plant's zone. A duration counts working time: its whole days are working days (the same local
time of day that many working days on), the rest working hours inside the shifts. With the
`wall` basis durations are plain elapsed time, while days (plans, working days) still follow
the calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.working_time.data import MINUTES_PER_DAY, CalendarData, Period, Shift, WorkDay
from shared.working_time.days import dates, special_dates, weekdays_in, work_day
from shared.working_time.local_time import (
    local_date,
    require_aware,
    since_midnight,
    wall_instant,
)

# How far a search for a working day or working time looks (about ten years) before it gives
# up with a ValueError: a calendar without working days must not hang its caller.
SEARCH_DAYS = 3660


class FactoryCalendar:
    """The plant's calendar over `data`; every method is pure.

    Searches for a working day look at most `SEARCH_DAYS` days ahead (or back) and raise
    `ValueError` when none is found, so a calendar without working days cannot hang a caller.
    """

    def __init__(self, data: CalendarData) -> None:
        self.data = data
        self.zone = ZoneInfo(data.zone)
        self.version = data.version
        # Memo of computed days: the data is frozen, so a day never changes for this object.
        self._days: dict[date, WorkDay] = {}
        self._periods: dict[date, tuple[Period, ...]] = {}

    def day(self, day: date) -> WorkDay:
        """What the local date `day` is: working or not, its shifts and why.

        The plant's exceptions win (a day off; an extra working day with its own shifts or
        the plant's; changed shifts on the working days of a range), then a public holiday
        (off), then a make-up working day (China's 调休: a weekend day worked), then the work
        week. Public days of a year after the last published one are `official: False`.
        """
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = work_day(self.data, day)
        return known

    def is_working_day(self, day: date) -> bool:
        """Whether the local date `day` has working time."""
        return self.day(day).working

    def local_date(self, instant: datetime) -> date:
        """The plant's local date at `instant`."""
        return local_date(self.zone, instant)

    def periods(self, start: date, end: date) -> list[Period]:
        """The working periods of the local dates start..end (inclusive), in order."""
        found: list[Period] = []
        for day in dates(start, end):
            found.extend(self._day_periods(day))
        return found

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` when it lies in working time, else the start of the next period."""
        require_aware(instant)
        moment = instant.astimezone(UTC)
        if self.data.basis == "wall":
            return moment
        for _, period in self._periods_from(moment):
            if period.end > moment:
                return max(moment, period.start)
        raise AssertionError("unreachable: _periods_from raises when it runs out")

    def add_working(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of working time after `start` (before it when negative).

        A zero duration returns `start` itself (in UTC), not moved into working time: nothing
        has to be worked, so nothing is waited for. Otherwise `start` first moves into working
        time (forwards: the next period's start; backwards: the previous period's end), whole
        days of the duration then count working days at the same local time of day, and the
        rest counts working time inside the shifts.
        """
        require_aware(start)
        moment = start.astimezone(UTC)
        if self.data.basis == "wall" or not duration:
            return moment + duration
        if duration > timedelta(0):
            return self._add_forward(moment, duration)
        return self._add_backward(moment, -duration)

    def add_working_hours(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of working time inside the shifts after `start` (before it
        when negative), every hour of it counted as working time: for a measured span (what
        `working_between` answers, scaled), whose whole days are hours, not working days."""
        require_aware(start)
        moment = start.astimezone(UTC)
        if self.data.basis == "wall" or not duration:
            return moment + duration
        if duration > timedelta(0):
            return self._walk_forward(moment, duration)
        return self._walk_backward(moment, -duration)

    def working_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time from `a` to `b` (zero when b <= a)."""
        require_aware(a)
        require_aware(b)
        begin, end = a.astimezone(UTC), b.astimezone(UTC)
        if end <= begin:
            return timedelta(0)
        if self.data.basis == "wall":
            return end - begin
        first, last = self.local_date(begin), self.local_date(end)
        if (last - first).days <= SEARCH_DAYS:
            return self._overlap(first, last, begin, end)
        # A far end (a "never" due at 9999-12-31): the first ten years day by day, the last
        # day too, and the whole days between by their shifts' wall-clock length, so that the
        # answer comes at once; exact unless a shift there spans a daylight saving change.
        middle = first + timedelta(days=SEARCH_DAYS + 1)
        total = self._overlap(first, middle - timedelta(days=1), begin, end)
        total += self._overlap(last, last, begin, end)
        return total + self._wall_working_time(middle, last - timedelta(days=1))

    def next_working_day(self, day: date) -> date:
        """`day` when it is a working day, else the next working day."""
        return self._find_working(day, step=1)

    def add_working_days(self, day: date, n: int) -> date:
        """The working day `n` working days after `day` (before it when n < 0); n == 0 is
        `next_working_day(day)`. From a day off, +1 is the first working day after it."""
        if n == 0:
            return self.next_working_day(day)
        step = 1 if n > 0 else -1
        current = day
        for _ in range(abs(n)):
            current = self._find_working(_shift_date(current, step), step=step)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days after `start` `end` falls (0 when end <= start): the working
        days in (start, end]."""
        if end <= start:
            return 0
        first = start + timedelta(days=1)
        # The work week counted by whole weeks, then corrected on the few dates that differ
        # from it (holidays, make-up days, exceptions): fast even up to 9999-12-31.
        count = weekdays_in(first, end, self.data.work_week)
        for day in special_dates(self.data, first, end):
            usual = day.weekday() in self.data.work_week
            count += int(self.is_working_day(day)) - int(usual)
        return count

    def day_start(self, day: date) -> datetime:
        """When the local working day `day` starts (its first shift), as a UTC instant; for a
        day off, the start of the next working day (datetime.max when none is left)."""
        try:
            working = self.next_working_day(day)
        except ValueError:
            if (date.max - day).days < SEARCH_DAYS:
                return datetime.max.replace(tzinfo=UTC)
            raise
        first = self.day(working).shifts[0]
        return wall_instant(self.zone, working, first.start)

    def day_end(self, day: date) -> datetime:
        """When the local day `day`'s work ends (its last shift's end), as a UTC instant; for
        a day off, local midnight after it. 9999-12-31 gives the last instant there is."""
        shifts = self.day(day).shifts
        return wall_instant(
            self.zone, day, shifts[-1].end if shifts else MINUTES_PER_DAY, later=True
        )

    # -- counting over days ----------------------------------------------------------------------

    def _overlap(self, first: date, last: date, begin: datetime, end: datetime) -> timedelta:
        """The working time of the days first..last that lies in [begin, end)."""
        total = timedelta(0)
        for day in dates(first, last):
            for period in self._day_periods(day):
                overlap = min(end, period.end) - max(begin, period.start)
                if overlap > timedelta(0):
                    total += overlap
        return total

    def _wall_working_time(self, first: date, last: date) -> timedelta:
        """The shifts' wall-clock length summed over the days first..last (inclusive)."""
        if last < first:
            return timedelta(0)
        usual = _minutes(self.data.shifts)
        minutes = weekdays_in(first, last, self.data.work_week) * usual
        for day in special_dates(self.data, first, last):
            normal = usual if day.weekday() in self.data.work_week else 0
            minutes += _minutes(self.day(day).shifts) - normal
        return timedelta(minutes=minutes)

    def _find_working(self, day: date, *, step: int) -> date:
        current = day
        for _ in range(SEARCH_DAYS):
            if self.is_working_day(current):
                return current
            if current in (date.max, date.min):
                break
            current = _shift_date(current, step)
        way = "after" if step > 0 else "before"
        raise ValueError(
            f"no working day within {SEARCH_DAYS} days {way} {day.isoformat()}: check the "
            "work week, the shifts and the plant's exceptions"
        )

    # -- instants -------------------------------------------------------------------------------

    def _day_periods(self, day: date) -> tuple[Period, ...]:
        known = self._periods.get(day)
        if known is None:
            found: list[Period] = []
            # Where the time before this day's first shift ends: a shift ending at 24:00 the
            # day before, when midnight is a repeated wall time (rare zones change at 00:00).
            floor = self._previous_day_end(day)
            for shift in self.day(day).shifts:
                # An end in a repeated (fall-back) hour takes its second occurrence, a start
                # its first, so the shift counts its real elapsed time; a start never reaches
                # back before the shift (or day) before it ends.
                start = wall_instant(self.zone, day, shift.start)
                if floor is not None:
                    start = max(start, floor)
                end = wall_instant(self.zone, day, shift.end, later=True)
                if end > start:  # a shift wholly inside a spring-forward gap has no time
                    found.append(Period(start, end))
                    floor = end
            known = self._periods[day] = tuple(found)
        return known

    def _previous_day_end(self, day: date) -> datetime | None:
        if day == date.min:
            return None
        before = day - timedelta(days=1)
        shifts = self.day(before).shifts
        if not shifts or shifts[-1].end < MINUTES_PER_DAY:
            return None
        return wall_instant(self.zone, before, MINUTES_PER_DAY, later=True)

    def _periods_from(self, moment: datetime) -> Iterator[tuple[date, Period]]:
        """The periods from the local day of `moment` on (those ending before it included)."""
        first = self.local_date(moment)
        day = first
        for _ in range(SEARCH_DAYS):
            for period in self._day_periods(day):
                yield day, period
            if day == date.max:
                break
            day += timedelta(days=1)
        raise ValueError(
            f"no working time within {SEARCH_DAYS} days after {first.isoformat()}: check the "
            "work week, the shifts and the plant's exceptions"
        )

    def _periods_back_from(self, moment: datetime) -> Iterator[tuple[date, Period]]:
        """The periods from the local day of `moment` back, latest first."""
        first = self.local_date(moment)
        day = first
        for _ in range(SEARCH_DAYS):
            for period in reversed(self._day_periods(day)):
                yield day, period
            if day == date.min:
                break
            day -= timedelta(days=1)
        raise ValueError(
            f"no working time within {SEARCH_DAYS} days before {first.isoformat()}: check "
            "the work week, the shifts and the plant's exceptions"
        )

    def _previous_working_instant(self, moment: datetime) -> datetime:
        """`moment` when it lies in working time or at a period's end, else the end of the
        previous period."""
        return next(
            min(moment, p.end) for _, p in self._periods_back_from(moment) if p.start <= moment
        )

    def _add_forward(self, moment: datetime, duration: timedelta) -> datetime:
        at = moment
        if duration.days:
            # From the working instant, the same local time of day `days` working days on.
            day, at = next(
                (d, max(moment, p.start)) for d, p in self._periods_from(moment) if p.end > moment
            )
            target = self.add_working_days(day, duration.days)
            at = wall_instant(self.zone, target, since_midnight(self.zone, day, at))
            if not duration.seconds and not duration.microseconds:
                return self.next_working_instant(at)
        rest = timedelta(seconds=duration.seconds, microseconds=duration.microseconds)
        return self._walk_forward(at, rest)

    def _walk_forward(self, at: datetime, rest: timedelta) -> datetime:
        """`rest` of working time inside the periods after `at`."""
        for _, period in self._periods_from(at):
            if period.end <= at:
                continue
            begin = max(at, period.start)
            if rest <= period.end - begin:
                return begin + rest
            rest -= period.end - begin
        raise AssertionError("unreachable: _periods_from raises when it runs out")

    def _add_backward(self, moment: datetime, duration: timedelta) -> datetime:
        at = moment
        if duration.days:
            day, at = next(
                (d, min(moment, p.end))
                for d, p in self._periods_back_from(moment)
                if p.start <= moment
            )
            target = self.add_working_days(day, -duration.days)
            at = wall_instant(self.zone, target, since_midnight(self.zone, day, at))
            if not duration.seconds and not duration.microseconds:
                return self._previous_working_instant(at)
        rest = timedelta(seconds=duration.seconds, microseconds=duration.microseconds)
        return self._walk_backward(at, rest)

    def _walk_backward(self, at: datetime, rest: timedelta) -> datetime:
        """`rest` of working time inside the periods before `at`."""
        for _, period in self._periods_back_from(at):
            if period.start >= at:
                continue
            finish = min(at, period.end)
            if rest <= finish - period.start:
                return finish - rest
            rest -= finish - period.start
        raise AssertionError("unreachable: _periods_back_from raises when it runs out")


def _shift_date(day: date, step: int) -> date:
    try:
        return day + timedelta(days=step)
    except OverflowError:
        raise ValueError(f"{day.isoformat()} {step:+d} days is outside the calendar") from None


def _minutes(shifts: tuple[Shift, ...]) -> int:
    return sum(s.end - s.start for s in shifts)
