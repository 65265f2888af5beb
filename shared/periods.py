"""Reporting periods: an ISO week or a calendar month, named as the API and the reports name
them (`2026-W48`, `2026-11`), cut at the plant's local midnights (`settings.timezone`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month"]

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class InvalidPeriod(ValueError):
    """A week or month that is not one (the API answers 422 `invalid_period`)."""


# A reporting period: an ISO week (Monday to Sunday) or a calendar month of local dates
# [start, end); its instants [start_at, end_at) are the local midnights in `zone` (IANA).
@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    label: str
    start: date
    end: date
    zone: str = "UTC"

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(self.zone))

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=ZoneInfo(self.zone))


def local_date(instant: datetime, zone: str) -> date:
    """The date in `zone` at the timezone-aware `instant`."""
    return instant.astimezone(ZoneInfo(zone)).date()


def week_of(day: date, zone: str = "UTC") -> Period:
    """The ISO week the local date `day` falls in."""
    year, week, _ = day.isocalendar()
    start = day - timedelta(days=day.weekday())
    return Period("week", f"{year:04d}-W{week:02d}", start, start + timedelta(days=7), zone)


def previous_week(day: date, zone: str = "UTC") -> Period:
    """The ISO week before the one the local date `day` falls in."""
    return week_of(day - timedelta(days=7), zone)


def month_of(day: date, zone: str = "UTC") -> Period:
    """The calendar month the local date `day` falls in."""
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Period("month", f"{start:%Y-%m}", start, end, zone)


def previous_month(day: date, zone: str = "UTC") -> Period:
    """The calendar month before the one the local date `day` falls in."""
    return month_of(day.replace(day=1) - timedelta(days=1), zone)


def parse_week(text: str, zone: str = "UTC") -> Period:
    """`2026-W48` as a Period; InvalidPeriod with a sentence otherwise."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise InvalidPeriod(f"week {text!r} is not an ISO week such as 2026-W48")
    year, week = int(match[1]), int(match[2])
    try:
        return week_of(date.fromisocalendar(year, week, 1), zone)
    except ValueError:
        raise InvalidPeriod(
            f"week {text!r} does not exist: {year} has no ISO week {week}"
        ) from None


def parse_month(text: str, zone: str = "UTC") -> Period:
    """`2026-11` as a Period; InvalidPeriod with a sentence otherwise."""
    match = _MONTH.fullmatch(text.strip())
    if not match:
        raise InvalidPeriod(f"month {text!r} is not a month such as 2026-11")
    try:
        return month_of(date(int(match[1]), int(match[2]), 1), zone)
    except ValueError:
        raise InvalidPeriod(f"month {text!r} does not exist (months run 01 to 12)") from None


def parse_period(kind: PeriodKind, text: str, zone: str = "UTC") -> Period:
    """A week or month label of the given kind as a Period cut at midnights in `zone`."""
    return parse_week(text, zone) if kind == "week" else parse_month(text, zone)
