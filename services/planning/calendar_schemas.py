"""The calendar API's types: the days of a range, the plant's exceptions, a confirmed year."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.bounds import RequestDate, Text
from shared.working_time.data import ClockBasis, ExceptionKind
from shared.working_time.models import REASON_LEN, SHIFTS_LEN
from shared.working_time.text import format_shifts, parse_shifts

# The longest range one exception covers: a plant shutdown of a year is already unusual.
EXCEPTION_DAYS_MAX = 366


# A stretch of working time, as instants with the plant's offset.
class PeriodPublic(BaseModel):
    start: datetime
    end: datetime


# One local day: working or not, its shifts, why, and whether the government published it.
class CalendarDayPublic(BaseModel):
    date: date
    working: bool
    shifts: list[str]
    note: str | None
    # False for a public holiday or make-up day of a year the government has not published.
    official: bool
    # True when the plant confirmed the day's year (POST /planning/calendar/years/{year}/confirm).
    confirmed: bool
    periods: list[PeriodPublic]


# `GET /planning/calendar`: the days of a range and what the calendar is made of.
class CalendarPublic(BaseModel):
    zone: str
    version: str
    basis: ClockBasis
    # The last year whose public holidays the government published (None: no country set).
    official_through: int | None
    days: list[CalendarDayPublic]


# `POST /planning/calendar/exceptions`: a day off, an extra working day or changed shifts over
# the local dates start..end. `shifts` ("08:00-12:00,13:00-17:30") is required for `shifts`,
# optional for `working_day` (the plant's shifts otherwise) and refused for `day_off`.
class ExceptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["day_off", "working_day", "shifts"]
    start: RequestDate
    end: RequestDate
    shifts: str | None = Field(default=None, max_length=SHIFTS_LEN, validate_default=True)
    reason: Text = Field(min_length=1, max_length=REASON_LEN)

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if isinstance(start, date):
            if end < start:
                raise ValueError(f"must not be before start ({start.isoformat()})")
            if end - start >= timedelta(days=EXCEPTION_DAYS_MAX):
                raise ValueError(f"an exception covers at most {EXCEPTION_DAYS_MAX} days")
        return end

    @field_validator("shifts")
    @classmethod
    def _shifts_fit_kind(cls, shifts: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if shifts is None or not shifts.strip():
            if kind == "shifts":
                raise ValueError("required for kind shifts, e.g. 08:00-12:00,13:00-16:00")
            return None
        if kind == "day_off":
            raise ValueError("a day off has no shifts; leave it out")
        # Stored as the calendar writes it, so the list shows one spelling (which may be
        # longer than what was sent: 8:00 is 08:00).
        written = format_shifts(parse_shifts(shifts))
        if len(written) > SHIFTS_LEN:
            raise ValueError(f"too many shifts: {written!r} is over {SHIFTS_LEN} characters")
        return written

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


# A stored exception.
class ExceptionPublic(BaseModel):
    id: int
    kind: ExceptionKind
    start: date
    end: date
    shifts: list[str]
    reason: str
    created_by: str
    created_at: datetime


# The answer to a change of the exceptions: the exception added or deleted, the calendar's
# version after it, and the change's number (its CalendarChangeWorkflow tells running workflows).
class ExceptionChanged(BaseModel):
    exception: ExceptionPublic
    version: str
    change: int
    workflow_id: str


# A year the plant confirmed, and the reminders acknowledged with it.
class YearConfirmed(BaseModel):
    year: int
    country: str
    confirmed_by: str
    at: datetime
    acknowledged: list[int]
