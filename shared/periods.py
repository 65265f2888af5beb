"""Reporting periods: an ISO week or a calendar month, named as the API and the reports name
them (`2026-W48`, `2026-11`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

PeriodKind = Literal["week", "month"]

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class InvalidPeriod(ValueError):
    """A week or month that is not one (the API answers 422 `invalid_period`)."""


# A reporting period: an ISO week (Monday to Sunday) or a calendar month, [start, end) in UTC.
@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    label: str
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=UTC)


def week_of(day: date) -> Period:
    """The ISO week `day` falls in."""
    year, week, _ = day.isocalendar()
    start = day - timedelta(days=day.weekday())
    return Period("week", f"{year:04d}-W{week:02d}", start, start + timedelta(days=7))


def month_of(day: date) -> Period:
    """The calendar month `day` falls in."""
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Period("month", f"{start:%Y-%m}", start, end)


def previous_month(day: date) -> Period:
    """The calendar month before the one `day` falls in."""
    return month_of(day.replace(day=1) - timedelta(days=1))


def parse_week(text: str) -> Period:
    """`2026-W48` as a Period; InvalidPeriod with a sentence otherwise."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise InvalidPeriod(f"week {text!r} is not an ISO week such as 2026-W48")
    year, week = int(match[1]), int(match[2])
    try:
        return week_of(date.fromisocalendar(year, week, 1))
    except ValueError:
        raise InvalidPeriod(
            f"week {text!r} does not exist: {year} has no ISO week {week}"
        ) from None


def parse_month(text: str) -> Period:
    """`2026-11` as a Period; InvalidPeriod with a sentence otherwise."""
    match = _MONTH.fullmatch(text.strip())
    if not match:
        raise InvalidPeriod(f"month {text!r} is not a month such as 2026-11")
    try:
        return month_of(date(int(match[1]), int(match[2]), 1))
    except ValueError:
        raise InvalidPeriod(f"month {text!r} does not exist (months run 01 to 12)") from None


def parse_period(kind: PeriodKind, text: str) -> Period:
    """A week or month label of the given kind as a Period."""
    return parse_week(text) if kind == "week" else parse_month(text)
