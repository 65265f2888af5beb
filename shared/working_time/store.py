"""The plant's calendar exceptions in PostgreSQL (schema `calendar`), and the calendar the
activities and the API compute with: the settings, the public holidays and the exceptions.

Written only through these functions (planning's API calls them); read by every activity that
sets a clock, through `CalendarSource`.

The overlap rule: no two exceptions may share a date, whatever their kinds. A day off inside
changed shifts, or two shift changes over one week, would need an order between them that
nobody could see in the list; refusing the overlap keeps every day's answer one exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from shared.escalations.models import Escalation
from shared.escalations.service import acknowledge
from shared.settings import Settings
from shared.working_time.calendar import FactoryCalendar
from shared.working_time.data import CalendarException, PublicCalendar
from shared.working_time.models import CalendarChangeRow, CalendarExceptionRow, ConfirmedYear
from shared.working_time.public import public_calendar
from shared.working_time.text import parse_shifts

# The years the calendar covers around today: plans reach a few years ahead, reports and open
# clocks a little behind.
YEARS_BEFORE, YEARS_AFTER = 2, 5
UNCONFIRMED = "calendar_unconfirmed"


def covered_years(today: date) -> range:
    """The years the current calendar covers: today.year - 2 .. today.year + 5."""
    return range(today.year - YEARS_BEFORE, today.year + YEARS_AFTER + 1)


def plant_today(settings: Settings) -> date:
    """Today's local date in the plant's zone."""
    return datetime.now(ZoneInfo(settings.timezone)).date()


def years_of(start: date, end: date, today: date) -> range:
    """The covered years widened to take in the dates start..end."""
    covered = covered_years(today)
    return range(min(covered.start, start.year), max(covered.stop, end.year + 1))


def public_part(settings: Settings, years: range) -> PublicCalendar:
    """The public holidays and make-up days of `years` for the plant's country (computed once
    per process and range by `public_calendar`'s cache: they change only with the library)."""
    return public_calendar(settings.holidays_country, years)


def to_exception(row: CalendarExceptionRow) -> CalendarException:
    """The calendar's view of a stored exception."""
    return _exception((row.id or 0, row.kind, row.start_date, row.end_date, row.reason, row.shifts))


# A stored exception as the calendar reads it: id, kind, start, end, reason, shifts (text).
# Every column that makes the calendar: a change of any of them is a change of the calendar.
ExceptionValues = tuple[int, str, date, date, str, str]


def _exception(values: ExceptionValues) -> CalendarException:
    id_, kind, start, end, reason, shifts = values
    return CalendarException(
        id=id_,
        kind=kind,  # type: ignore[arg-type]  # the API and the check constraint keep it so
        start=start,
        end=end,
        reason=reason,
        shifts=parse_shifts(shifts) if shifts else (),
    )


def build_calendar(
    settings: Settings, rows: Sequence[CalendarExceptionRow], years: range
) -> FactoryCalendar:
    """The factory calendar of the settings, the public holidays of `years` and `rows`."""
    return calendar_of(settings, tuple(to_exception(row) for row in rows), years)


def calendar_of(
    settings: Settings, exceptions: tuple[CalendarException, ...], years: range
) -> FactoryCalendar:
    """The factory calendar of the settings, the public holidays of `years` and `exceptions`."""
    return FactoryCalendar(settings.calendar_data(public_part(settings, years), exceptions))


async def list_exceptions(session: AsyncSession) -> list[CalendarExceptionRow]:
    """Every stored exception, by start date."""
    rows = await session.execute(
        select(CalendarExceptionRow).order_by(
            col(CalendarExceptionRow.start_date), col(CalendarExceptionRow.id)
        )
    )
    return list(rows.scalars())


async def load_calendar(
    session: AsyncSession, settings: Settings, *, today: date, years: range | None = None
) -> FactoryCalendar:
    """The calendar as it stands in `session` (the covered years, or `years`)."""
    rows = await list_exceptions(session)
    return build_calendar(settings, rows, years or covered_years(today))


# An exception that shares dates with one stored before; the API answers 409 naming it.
class Overlap(Exception):
    def __init__(self, other: CalendarExceptionRow) -> None:
        # Plain values: the row expires when the transaction that found it rolls back.
        self.other_id = other.id or 0
        super().__init__(
            f"it overlaps exception {other.id} ({other.kind} {other.start_date.isoformat()}.."
            f"{other.end_date.isoformat()}: {other.reason}); no two exceptions may share a date"
        )


async def add_exception(
    session: AsyncSession,
    *,
    kind: str,
    start: date,
    end: date,
    shifts: str,
    reason: str,
    by: str,
    at: datetime,
) -> CalendarExceptionRow:
    """Store an exception (flushed, not committed); `Overlap` when it shares a date with one.

    Two requests adding overlapping exceptions at once are serialised by a transaction-scoped
    advisory lock, so the overlap check sees the other's row."""
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK)))
    other = (
        await session.execute(
            select(CalendarExceptionRow)
            .where(
                col(CalendarExceptionRow.start_date) <= end,
                col(CalendarExceptionRow.end_date) >= start,
            )
            .order_by(col(CalendarExceptionRow.start_date))
            .limit(1)
        )
    ).scalar_one_or_none()
    if other is not None:
        raise Overlap(other)
    row = CalendarExceptionRow(
        kind=kind,
        start_date=start,
        end_date=end,
        shifts=shifts,
        reason=reason,
        created_by=by,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    return row


# The advisory lock key of calendar changes (any constant unique to this use).
_LOCK = 0x0CA1E2DA


async def delete_exception(session: AsyncSession, *, exception_id: int) -> CalendarExceptionRow:
    """Delete an exception (not committed); LookupError when there is none with that id."""
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK)))
    row = await session.get(CalendarExceptionRow, exception_id)
    if row is None:
        raise LookupError(f"calendar exception {exception_id}")
    await session.execute(
        delete(CalendarExceptionRow).where(col(CalendarExceptionRow.id) == exception_id)
    )
    return row


async def record_change(
    session: AsyncSession, *, version: str, what: str, by: str, at: datetime
) -> int:
    """Record a change of the exceptions (not committed): its number."""
    row = CalendarChangeRow(version=version, what=what[:300], changed_by=by, at=at)
    session.add(row)
    await session.flush()
    return row.id or 0


async def latest_change(session: AsyncSession) -> CalendarChangeRow | None:
    """The last change recorded, if any."""
    rows = await session.execute(
        select(CalendarChangeRow).order_by(col(CalendarChangeRow.id).desc()).limit(1)
    )
    return rows.scalar_one_or_none()


async def confirmed_years(session: AsyncSession) -> set[int]:
    """The years the plant confirmed."""
    return set((await session.execute(select(col(ConfirmedYear.year)))).scalars())


def unconfirmed_key(year: int) -> str:
    """The escalation key of a year's reminder: one per year, ever."""
    return f"calendar-unconfirmed-{year}"


async def confirm_year(
    session: AsyncSession, *, year: int, country: str, by: str, at: datetime
) -> tuple[ConfirmedYear, list[int]]:
    """Record that the plant confirmed `year` (once: a second confirmation keeps the first),
    and acknowledge its reminder; the row and the escalation ids acknowledged (not committed)."""
    await session.execute(
        insert(ConfirmedYear)
        .values(year=year, country=country, confirmed_by=by, at=at)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    row = await session.get(ConfirmedYear, year)
    assert row is not None  # inserted above, or there before
    ids = (
        await session.execute(
            select(col(Escalation.id)).where(col(Escalation.key) == unconfirmed_key(year))
        )
    ).scalars()
    acked = await acknowledge(session, ids=[i for i in ids if i is not None], by=by, at=at)
    return row, acked


def years_to_remind(public: PublicCalendar, confirmed: set[int], today: date) -> list[int]:
    """The years planning is reminded of: rule-based ones (after `official_through`) up to next
    year, not confirmed. Further years are rule-based as a matter of course (the State Council
    publishes next year's schedule in the autumn), so each is reminded of once it is next year."""
    if public.country is None or public.official_through is None:
        return []
    first = max(public.official_through + 1, today.year - YEARS_BEFORE)
    return [y for y in range(first, today.year + 2) if y not in confirmed]


# The exceptions' columns `CalendarSource` reads, in `ExceptionValues`' order.
_VALUES = select(
    col(CalendarExceptionRow.id),
    col(CalendarExceptionRow.kind),
    col(CalendarExceptionRow.start_date),
    col(CalendarExceptionRow.end_date),
    col(CalendarExceptionRow.reason),
    col(CalendarExceptionRow.shifts),
).order_by(col(CalendarExceptionRow.start_date), col(CalendarExceptionRow.id))

# How many calendars (one per range of years) a source keeps; `current()` needs one, a few
# more serve `covering()` without evicting it.
_KEPT = 8


class CalendarSource:
    """The current factory calendar for the activities of one worker or gateway process.

    Every call reads the stored exceptions (one statement, no transaction around it), so a
    change is seen by the very next call in any process, with no cache to invalidate. What is
    not repeated is building the calendar: when the exceptions read, the years covered, today
    and the settings' calendar fields are what the last calendar was built from, that same
    `FactoryCalendar` is returned. Sharing it is safe: its data is frozen and its only state
    is a memo of days computed from that data (plain dict entries, the same whoever adds
    them), dropped with the calendar when a new one is built (every day at the latest).
    """

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        # Per range of years: what the calendar was built from, and the calendar.
        self._built: dict[range, tuple[tuple[object, ...], FactoryCalendar]] = {}
        self.builds = 0  # calendars built (not reused): what the tests and benchmarks count

    async def current(self) -> FactoryCalendar:
        """The calendar as it stands now (settings, public holidays, stored exceptions)."""
        today = plant_today(self._settings)
        return await self._calendar(covered_years(today), today)

    async def covering(self, start: date, end: date) -> FactoryCalendar:
        """The calendar with the public holidays of start..end too (for plans far ahead).

        Its `version` differs from `current()`'s when start..end leaves the covered years (the
        version hashes the public holidays loaded): keep `current()`'s version with a clock."""
        today = plant_today(self._settings)
        return await self._calendar(years_of(start, end, today), today)

    async def _calendar(self, years: range, today: date) -> FactoryCalendar:
        rows = await self._read_exceptions()
        settings = self._settings
        source = (
            today,
            rows,
            settings.timezone,
            settings.shifts,
            settings.work_week,
            settings.clock_basis,
            settings.holidays_country,
        )
        kept = self._built.get(years)
        if kept is not None and kept[0] == source:
            return kept[1]
        calendar = calendar_of(settings, tuple(_exception(values) for values in rows), years)
        self.builds += 1
        if len(self._built) >= _KEPT and years not in self._built:
            self._built.clear()
        self._built[years] = (source, calendar)
        return calendar

    async def _read_exceptions(self) -> tuple[ExceptionValues, ...]:
        """The stored exceptions' values, by start date: one statement in autocommit (a
        single read needs no transaction, and BEGIN and COMMIT would be two round trips)."""
        async with self._engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await connection.execute(_VALUES)
            return tuple(
                (id_ or 0, kind, start, end, reason, shifts)
                for id_, kind, start, end, reason, shifts in result
            )
