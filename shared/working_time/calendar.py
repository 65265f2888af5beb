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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

ClockBasis = Literal["working", "wall"]
ExceptionKind = Literal["day_off", "working_day", "shifts"]


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
                "holidays": sorted(d.isoformat() for d in self.public.holidays),
                "weekends": sorted(d.isoformat() for d in self.public.working_weekends),
                "exceptions": [
                    [e.id, e.kind, e.start.isoformat(), e.end.isoformat()]
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
    """The plant's calendar over `data`; every method is pure."""

    def __init__(self, data: CalendarData) -> None:
        self.data = data
        self.zone = ZoneInfo(data.zone)
        self.version = data.version

    def day(self, day: date) -> WorkDay:
        """What the local date `day` is: working or not, its shifts and why."""
        raise NotImplementedError

    def is_working_day(self, day: date) -> bool:
        raise NotImplementedError

    def local_date(self, instant: datetime) -> date:
        """The plant's local date at `instant`."""
        raise NotImplementedError

    def periods(self, start: date, end: date) -> list[Period]:
        """The working periods of the local dates start..end (inclusive), in order."""
        raise NotImplementedError

    def next_working_instant(self, instant: datetime) -> datetime:
        """`instant` when it lies in working time, else the start of the next period."""
        raise NotImplementedError

    def add_working(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of working time after `start` (before it when negative)."""
        raise NotImplementedError

    def working_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time from `a` to `b` (zero when b <= a)."""
        raise NotImplementedError

    def next_working_day(self, day: date) -> date:
        """`day` when it is a working day, else the next working day."""
        raise NotImplementedError

    def add_working_days(self, day: date, n: int) -> date:
        """The working day `n` working days after `day` (before it when n < 0); n == 0 is
        `next_working_day(day)`."""
        raise NotImplementedError

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days after `start` `end` falls (0 when end <= start)."""
        raise NotImplementedError

    def day_start(self, day: date) -> datetime:
        """When the local working day `day` starts (its first shift), as a UTC instant; for a
        day off, the start of the next working day."""
        raise NotImplementedError

    def day_end(self, day: date) -> datetime:
        """When the local day `day`'s work ends (its last shift's end), as a UTC instant; for
        a day off, local midnight after it. 9999-12-31 gives the last instant there is."""
        raise NotImplementedError
