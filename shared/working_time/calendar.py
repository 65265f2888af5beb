"""The factory calendar: pure functions over calendar data (no I/O, no clock reads).

Instants are timezone-aware datetimes (any zone in, UTC out); days are local dates in the
plant's zone. A duration counts working time: its whole days are working days (the same local
time of day that many working days on), the rest working hours inside the shifts. With the
`wall` basis durations are plain elapsed time, while days (plans, working days) still follow
the calendar.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

ClockBasis = Literal["working", "wall"]
ExceptionKind = Literal["day_off", "working_day", "shifts"]

MINUTES_PER_DAY = 24 * 60
# How far a search for a working day or working time looks (about ten years) before it gives
# up with a ValueError: a calendar without working days must not hang its caller.
SEARCH_DAYS = 3660


# One shift of a working day, in minutes after local midnight: 0 <= start < end <= 1440.
@dataclass(frozen=True, order=True)
class Shift:
    start: int
    end: int


# A plant exception planning entered, for the local dates [start, end] (inclusive): a day off
# (shutdown, stock-take), an extra working day (with the plant's shifts unless `shifts` says
# otherwise), or changed shifts on the working days of the range.
@dataclass(frozen=True)
class CalendarException:
    id: int
    kind: ExceptionKind
    start: date
    end: date
    reason: str
    shifts: tuple[Shift, ...] = ()


# What the public-holiday library says for the plant's country: days off, weekend days that
# are working days (China's 调休), and the last year whose schedule the government published
# (later years are computed by rule and not official).
@dataclass(frozen=True)
class PublicCalendar:
    country: str | None
    holidays: dict[date, str] = field(default_factory=dict)
    working_weekends: dict[date, str] = field(default_factory=dict)
    official_through: int | None = None


# Everything the calendar is computed from; `version` names it (kept with every clock).
@dataclass(frozen=True)
class CalendarData:
    zone: str
    shifts: tuple[Shift, ...]
    work_week: frozenset[int]  # date.weekday() numbers: 0 is Monday
    public: PublicCalendar
    exceptions: tuple[CalendarException, ...] = ()
    basis: ClockBasis = "working"

    @property
    def version(self) -> str:
        """A short hash of the data: equal data, equal version."""
        canonical = json.dumps(
            {
                "zone": self.zone,
                "shifts": [[s.start, s.end] for s in self.shifts],
                "week": sorted(self.work_week),
                "country": self.public.country,
                "holidays": sorted([d.isoformat(), n] for d, n in self.public.holidays.items()),
                "weekends": sorted(
                    [d.isoformat(), n] for d, n in self.public.working_weekends.items()
                ),
                "official_through": self.public.official_through,
                "exceptions": [
                    [e.id, e.kind, e.start.isoformat(), e.end.isoformat(), e.reason]
                    + [[s.start, s.end] for s in e.shifts]
                    for e in sorted(self.exceptions, key=lambda e: e.id)
                ],
                "basis": self.basis,
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


# One local day as the calendar sees it.
@dataclass(frozen=True)
class WorkDay:
    day: date
    working: bool
    shifts: tuple[Shift, ...]  # empty on a day off
    # Why the day is what it is: "weekend", a holiday's name, "make-up working day: …", an
    # exception's reason; None for an ordinary working day.
    note: str | None
    # False for a public holiday or make-up day of a year not yet published (rule-based).
    official: bool = True


# A stretch of working time, [start, end) as UTC instants.
@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


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
            known = self._days[day] = self._compute_day(day)
        return known

    def is_working_day(self, day: date) -> bool:
        """Whether the local date `day` has working time."""
        return self.day(day).working

    def local_date(self, instant: datetime) -> date:
        """The plant's local date at `instant`."""
        _require_aware(instant)
        try:
            return instant.astimezone(self.zone).date()
        except OverflowError:  # datetime.max/min pushed past the calendar's end by the offset
            return date.max if instant.year == MAXYEAR else date.min

    def periods(self, start: date, end: date) -> list[Period]:
        """The working periods of the local dates start..end (inclusive), in order."""
        found: list[Period] = []
        for day in _dates(start, end):
            found.extend(self._day_periods(day))
        return found

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` when it lies in working time, else the start of the next period."""
        _require_aware(instant)
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
        _require_aware(start)
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
        _require_aware(start)
        moment = start.astimezone(UTC)
        if self.data.basis == "wall" or not duration:
            return moment + duration
        if duration > timedelta(0):
            return self._walk_forward(moment, duration)
        return self._walk_backward(moment, -duration)

    def working_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time from `a` to `b` (zero when b <= a)."""
        _require_aware(a)
        _require_aware(b)
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
        count = _weekdays_in(first, end, self.data.work_week)
        for day in self._special_dates(first, end):
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
        return self._instant(working, first.start)

    def day_end(self, day: date) -> datetime:
        """When the local day `day`'s work ends (its last shift's end), as a UTC instant; for
        a day off, local midnight after it. 9999-12-31 gives the last instant there is."""
        shifts = self.day(day).shifts
        return self._instant(day, shifts[-1].end if shifts else MINUTES_PER_DAY, later=True)

    # -- the rules of one day -------------------------------------------------------------------

    def _compute_day(self, day: date) -> WorkDay:
        ruling = [e for e in self.data.exceptions if e.start <= day <= e.end]
        usual = self._usual_day(day)
        off = [e for e in ruling if e.kind == "day_off"]
        if off:
            return WorkDay(day, False, (), off[-1].reason)
        extra = [e for e in ruling if e.kind == "working_day"]
        changed = [e for e in ruling if e.kind == "shifts" and e.shifts]
        if extra:
            shifts = extra[-1].shifts or self.data.shifts
            note: str | None = extra[-1].reason
            working = True
        else:
            shifts, note, working = usual.shifts, usual.note, usual.working
        if working and changed:
            shifts, note = changed[-1].shifts, changed[-1].reason
        if not extra and not changed:
            return usual
        return WorkDay(day, working and bool(shifts), shifts if working else (), note)

    def _usual_day(self, day: date) -> WorkDay:
        public = self.data.public
        official = public.official_through is None or day.year <= public.official_through
        holiday = public.holidays.get(day)
        if holiday is not None:
            return WorkDay(day, False, (), holiday, official)
        make_up = public.working_weekends.get(day)
        if make_up is not None:
            note = f"make-up working day ({make_up})"
            return WorkDay(day, bool(self.data.shifts), self.data.shifts, note, official)
        if day.weekday() in self.data.work_week:
            return WorkDay(day, bool(self.data.shifts), self.data.shifts, None)
        return WorkDay(day, False, (), "weekend")

    def _special_dates(self, first: date, last: date) -> set[date]:
        public = self.data.public
        found = {d for d in public.holidays if first <= d <= last}
        found |= {d for d in public.working_weekends if first <= d <= last}
        for exception in self.data.exceptions:
            found.update(_dates(max(first, exception.start), min(last, exception.end)))
        return found

    def _overlap(self, first: date, last: date, begin: datetime, end: datetime) -> timedelta:
        """The working time of the days first..last that lies in [begin, end)."""
        total = timedelta(0)
        for day in _dates(first, last):
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
        minutes = _weekdays_in(first, last, self.data.work_week) * usual
        for day in self._special_dates(first, last):
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
                start = self._instant(day, shift.start)
                if floor is not None:
                    start = max(start, floor)
                end = self._instant(day, shift.end, later=True)
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
        return self._instant(before, MINUTES_PER_DAY, later=True)

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

    def _instant(
        self, day: date, since_midnight: int | timedelta, *, later: bool = False
    ) -> datetime:
        """The UTC instant of the local wall time `since_midnight` (minutes or a timedelta)
        after `day`'s midnight; `later` picks the second of two fall-back instants."""
        offset = (
            since_midnight
            if isinstance(since_midnight, timedelta)
            else timedelta(minutes=since_midnight)
        )
        try:
            wall = datetime.combine(day, time()) + offset
        except OverflowError:  # 24:00 on 9999-12-31
            return datetime.max.replace(tzinfo=UTC)
        return self._to_utc(wall, later=later)

    def _to_utc(self, wall: datetime, *, later: bool) -> datetime:
        try:
            first = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
            second = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        except OverflowError:  # the zone's offset pushes the instant past year 1 or 9999
            edge = datetime.max if wall.year == MAXYEAR else datetime.min
            return edge.replace(tzinfo=UTC)
        if first == second:
            return first
        if first < second:  # fall back: the wall time happens twice
            return second if later else first
        # Spring forward: the wall time does not exist; the first instant that does is the
        # transition, between the two readings (second < first).
        return self._transition(second, first)

    def _transition(self, before: datetime, after: datetime) -> datetime:
        """The instant in [before, after] where the zone's offset changes (to the second)."""
        offset = after.astimezone(self.zone).utcoffset()
        while after - before > timedelta(seconds=1):
            middle = before + (after - before) / 2
            if middle.astimezone(self.zone).utcoffset() == offset:
                after = middle
            else:
                before = middle
        return after.replace(microsecond=0)

    def _since_midnight(self, day: date, instant: datetime) -> timedelta:
        """The local wall time of `instant` counted from `day`'s midnight (24:00 allowed)."""
        wall = instant.astimezone(self.zone).replace(tzinfo=None)
        return wall - datetime.combine(day, time())

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
            at = self._instant(target, self._since_midnight(day, at))
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
            at = self._instant(target, self._since_midnight(day, at))
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


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"{instant.isoformat()} has no time zone: give instants with an offset (UTC or the "
            "plant's zone)"
        )


def _shift_date(day: date, step: int) -> date:
    try:
        return day + timedelta(days=step)
    except OverflowError:
        raise ValueError(f"{day.isoformat()} {step:+d} days is outside the calendar") from None


def _dates(first: date, last: date) -> Iterator[date]:
    """The dates first..last (inclusive), safe up to date.max."""
    day = first
    while day <= last:
        yield day
        if day == date.max:
            return
        day += timedelta(days=1)


def _weekdays_in(first: date, last: date, week: frozenset[int]) -> int:
    """How many dates in first..last fall on a weekday of `week`."""
    total = (last - first).days + 1
    weeks, extra = divmod(total, 7)
    start = first.weekday()
    return weeks * len(week) + sum(1 for i in range(extra) if (start + i) % 7 in week)


def _minutes(shifts: tuple[Shift, ...]) -> int:
    return sum(s.end - s.start for s in shifts)
