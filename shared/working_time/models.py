"""The calendar tables, in schema `calendar`: the plant's exceptions, the years the plant
confirmed, and every change (its number names the fan-out that tells running workflows)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from shared.models import ts_field

# Column lengths the API's bounds fit (shared/working_time/schemas.py).
KIND_LEN = 16
SHIFTS_LEN = 200
REASON_LEN = 200
COUNTRY_LEN = 8
VERSION_LEN = 32
CHANGE_LEN = 300


# A plant exception over the local dates [start_date, end_date]: a day off, an extra working
# day, or changed shifts (`shifts` as "08:00-12:00,13:00-17:30"; empty for a day off).
class CalendarExceptionRow(SQLModel, table=True):
    __tablename__ = "exceptions"
    __table_args__ = (
        CheckConstraint("kind IN ('day_off', 'working_day', 'shifts')", name="ck_exception_kind"),
        CheckConstraint("end_date >= start_date", name="ck_exception_range"),
        {"schema": "calendar"},
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=KIND_LEN)
    start_date: date = Field(index=True)
    end_date: date
    shifts: str = Field(default="", max_length=SHIFTS_LEN)
    reason: str = Field(max_length=REASON_LEN)
    # A token's subject: as long as the identity provider makes it (text, like `acked_by`).
    created_by: str
    created_at: datetime = ts_field()


# A year whose public holidays the plant confirmed (it read the government's schedule, or
# entered its own exceptions): its days show `confirmed: true`.
class ConfirmedYear(SQLModel, table=True):
    __tablename__ = "confirmed_years"
    __table_args__ = {"schema": "calendar"}

    year: int = Field(primary_key=True)
    country: str = Field(max_length=COUNTRY_LEN)
    confirmed_by: str
    at: datetime = ts_field()


# One change of the exceptions: the calendar version after it, who and what. Its id names the
# CalendarChangeWorkflow that tells running workflows (a version alone cannot: deleting an
# exception brings an earlier version back).
class CalendarChangeRow(SQLModel, table=True):
    __tablename__ = "changes"
    __table_args__ = {"schema": "calendar"}

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=VERSION_LEN)
    what: str = Field(max_length=CHANGE_LEN)
    changed_by: str
    at: datetime = ts_field()
