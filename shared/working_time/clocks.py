"""The clocks a workflow sets, declared by their basis and resolved by an activity against the
factory calendar (workflow code never reads the calendar itself), and the signal that tells a
running workflow the calendar changed so it resolves its open clocks again.

A clock is one of:
- `day_end`: the end of the plant's working day `day` (a milestone is due then);
- `day_start`: the start of the working day `day` (production starts then), moved by
  `offset` of working time (negative: before it; the picking, material and drawings leads);
- `after`: `offset` of working time after the instant `at` (a task's SLA, a daily re-check).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.working_time.calendar import FactoryCalendar

# The signal every workflow with clocks takes when the plant's calendar changes.
CALENDAR_CHANGED = "calendar_changed"


class CalendarChanged(BaseModel):
    """The calendar now has `version`: clocks resolved under another version are re-timed."""

    version: str


class ClockSpec(BaseModel):
    """What a clock counts from, in the plant's time (see the module's docstring)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["day_end", "day_start", "after"]
    day: date | None = None
    at: datetime | None = None
    offset: timedelta = timedelta(0)

    @property
    def key(self) -> str:
        """The clock's identity in a workflow's clock book."""
        return self.model_dump_json()

    def describe(self) -> str:
        """The clock in words, for timer summaries."""
        if self.kind == "after":
            return f"{_span(self.offset)} of working time after {self.at:%Y-%m-%d %H:%M}Z"
        edge = "end" if self.kind == "day_end" else "start"
        moved = "" if not self.offset else f" {_signed(self.offset)} working time"
        return f"{edge} of working day {self.day}{moved}"


def day_end(day: date) -> ClockSpec:
    return ClockSpec(kind="day_end", day=day)


def day_start(day: date, offset: timedelta = timedelta(0)) -> ClockSpec:
    return ClockSpec(kind="day_start", day=day, offset=offset)


def after(at: datetime, offset: timedelta) -> ClockSpec:
    return ClockSpec(kind="after", at=at, offset=offset)


def resolve(spec: ClockSpec, calendar: FactoryCalendar) -> datetime:
    """The instant `spec` names on `calendar` (UTC)."""
    try:
        if spec.kind == "day_end":
            assert spec.day is not None
            return calendar.day_end(spec.day)
        if spec.kind == "day_start":
            assert spec.day is not None
            start = calendar.day_start(spec.day)
            return calendar.add_working(start, spec.offset) if spec.offset else start
        assert spec.at is not None
        return calendar.add_working(spec.at, spec.offset)
    except OverflowError:  # past the last day there is: the clock never fires
        return datetime.max.replace(tzinfo=UTC)


class ResolvedClocks(BaseModel):
    """The instants of the clocks asked for, in order, and the calendar version used."""

    version: str
    instants: list[datetime]


class ClockBook(BaseModel):
    """The clocks a workflow resolved (key → instant) under `version`, and the newest
    version it has heard of; a clock book whose version is not `heard` is out of date."""

    version: str | None = None
    heard: str | None = None
    instants: dict[str, datetime] = Field(default_factory=dict)

    @property
    def stale(self) -> bool:
        return self.heard is not None and self.heard != self.version


def _span(delta: timedelta) -> str:
    hours = abs(delta).total_seconds() / 3600
    return f"{hours:g} h" if not abs(delta).days else f"{abs(delta).days} d {hours % 24:g} h"


def _signed(delta: timedelta) -> str:
    return ("-" if delta < timedelta(0) else "+") + _span(delta)
