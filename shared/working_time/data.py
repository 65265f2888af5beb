"""The factory calendar's data: shifts, the plant's exceptions, what the public-holiday library
says, and the days and periods the calendar answers with (plain frozen values, no rules)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ClockBasis = Literal["working", "wall"]
ExceptionKind = Literal["day_off", "working_day", "shifts"]

MINUTES_PER_DAY = 24 * 60


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
