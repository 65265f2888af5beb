"""The plant's calendar: its days over a range (any role), its exceptions (planning changes
them, and every running workflow is told), the years the plant confirmed."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.status import HTTP_201_CREATED, HTTP_409_CONFLICT
from temporalio.client import Client
from temporalio.service import RPCError

from services.planning.calendar_schemas import (
    CalendarDayPublic,
    CalendarPublic,
    ExceptionChanged,
    ExceptionCreate,
    ExceptionPublic,
    PeriodPublic,
    YearConfirmed,
)
from shared.bounds import EARLIEST_DATE, LATEST_DATE
from shared.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from shared.errors import APIError, invalid, not_found, unavailable
from shared.params import IdPath
from shared.settings import Settings
from shared.workflow_ids import calendar_change_workflow_id
from shared.working_time.calendar import FactoryCalendar
from shared.working_time.data import Shift
from shared.working_time.models import CalendarExceptionRow
from shared.working_time.store import (
    Overlap,
    add_exception,
    confirm_year,
    confirmed_years,
    covered_years,
    delete_exception,
    list_exceptions,
    load_calendar,
    plant_today,
    record_change,
)
from shared.working_time.text import format_shifts, parse_shifts
from workflows.clients import CalendarChangeInput, start_calendar_change

log = logging.getLogger("orderflow.api")

# The longest range one `GET /planning/calendar` lists.
RANGE_DAYS_MAX = 400
CHANGERS = ("planning",)

router = APIRouter(prefix="/calendar", tags=["calendar"])

FromQuery = Annotated[date, Query(alias="from", description="first local date, e.g. 2026-02-01")]
ToQuery = Annotated[date, Query(description="last local date (inclusive), e.g. 2026-02-28")]
YearPath = Annotated[int, Path(ge=EARLIEST_DATE.year, le=LATEST_DATE.year)]


def _range_problem(start: date, end: date) -> APIError | None:
    """Why `from`..`to` cannot be listed, naming the field; None when it can."""
    problem: tuple[str, str] | None = None
    if start < EARLIEST_DATE:
        problem = ("query.from", f"must not be before {EARLIEST_DATE.isoformat()}")
    elif end > LATEST_DATE:
        problem = ("query.to", f"must not be after {LATEST_DATE.isoformat()}")
    elif end < start:
        problem = ("query.to", f"must not be before from ({start.isoformat()})")
    elif (end - start).days + 1 > RANGE_DAYS_MAX:
        problem = ("query.to", f"at most {RANGE_DAYS_MAX} days are listed at once")
    if problem is None:
        return None
    field, text = problem
    return invalid(
        "invalid_range", f"{field}: {text}", problems=[{"field": field, "problem": text}]
    )


def _shift_texts(shifts: tuple[Shift, ...]) -> list[str]:
    return [format_shifts((shift,)) for shift in shifts]


def _day(calendar: FactoryCalendar, day: date, confirmed: set[int]) -> CalendarDayPublic:
    zone = ZoneInfo(calendar.data.zone)
    work = calendar.day(day)
    return CalendarDayPublic(
        date=day,
        working=work.working,
        shifts=_shift_texts(work.shifts),
        note=work.note,
        official=work.official,
        confirmed=day.year in confirmed,
        periods=[
            PeriodPublic(start=p.start.astimezone(zone), end=p.end.astimezone(zone))
            for p in calendar.periods(day, day)
        ],
    )


def exception_public(row: CalendarExceptionRow) -> ExceptionPublic:
    """The API's view of a stored exception."""
    return ExceptionPublic(
        id=row.id or 0,
        kind=row.kind,  # type: ignore[arg-type]  # the column's check constraint keeps it so
        start=row.start_date,
        end=row.end_date,
        shifts=_shift_texts(parse_shifts(row.shifts)) if row.shifts else [],
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )


@router.get("", response_model=CalendarPublic)
async def get_calendar(
    session: SessionDep, user: CurrentUser, settings: SettingsDep, start: FromQuery, to: ToQuery
) -> CalendarPublic:
    """Each local day of `from`..`to` (at most 400): working or not, its shifts and working
    periods (instants with the plant's offset), why, and whether it is official."""
    refused = _range_problem(start, to)
    if refused is not None:
        raise refused
    today = plant_today(settings)
    covered = covered_years(today)
    # A range outside the covered years gets the public holidays of its own years (one or
    # two); the version still names the calendar clocks count in, that of the covered years.
    inside = start.year in covered and to.year in covered
    years = covered if inside else range(start.year, to.year + 1)
    calendar = await load_calendar(session, settings, today=today, years=years)
    current = calendar if inside else await load_calendar(session, settings, today=today)
    confirmed = await confirmed_years(session)
    days = [
        _day(calendar, start + timedelta(days=n), confirmed) for n in range((to - start).days + 1)
    ]
    return CalendarPublic(
        zone=calendar.data.zone,
        version=current.version,
        basis=calendar.data.basis,
        official_through=calendar.data.public.official_through,
        days=days,
    )


@router.get("/exceptions", response_model=list[ExceptionPublic])
async def get_exceptions(
    session: SessionDep,
    user: CurrentUser,
    start: Annotated[
        date | None, Query(alias="from", description="only those ending on or after")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="only those starting on or before")
    ] = None,
) -> list[ExceptionPublic]:
    """The plant's exceptions (days off, extra working days, changed shifts) by start date;
    `from`/`to` keep those that touch the range."""
    return [
        exception_public(row)
        for row in await list_exceptions(session)
        if (start is None or row.end_date >= start) and (end is None or row.start_date <= end)
    ]


@router.post("/exceptions", response_model=ExceptionChanged, status_code=HTTP_201_CREATED)
async def post_exception(
    body: ExceptionCreate,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> ExceptionChanged:
    """Add an exception (planning): 409 when it shares a date with another. Every running
    workflow is then told the new calendar version, so its open clocks are re-timed."""
    user.require(CHANGERS, "changing the plant calendar")
    now = datetime.now(UTC)
    try:
        row = await add_exception(
            session,
            kind=body.kind,
            start=body.start,
            end=body.end,
            shifts=body.shifts or "",
            reason=body.reason,
            by=user.sub,
            at=now,
        )
    except Overlap as exc:
        raise APIError(
            HTTP_409_CONFLICT,
            "exception_overlaps",
            str(exc),
            extra={"problems": [{"field": "start", "problem": str(exc)}]},
        ) from None
    what = f"added exception {row.id}: {row.kind} {row.start_date}..{row.end_date} ({row.reason})"
    return await _changed(session, settings, temporal, user.sub, row, what, now)


@router.delete("/exceptions/{exception_id}", response_model=ExceptionChanged)
async def remove_exception(
    exception_id: IdPath,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> ExceptionChanged:
    """Delete an exception (planning); every running workflow is told the new version."""
    user.require(CHANGERS, "changing the plant calendar")
    try:
        row = await delete_exception(session, exception_id=exception_id)
    except LookupError:
        raise not_found(f"calendar exception {exception_id}") from None
    what = f"deleted exception {row.id}: {row.kind} {row.start_date}..{row.end_date} ({row.reason})"
    return await _changed(session, settings, temporal, user.sub, row, what, datetime.now(UTC))


async def _changed(
    session: AsyncSession,
    settings: Settings,
    temporal: Client,
    by: str,
    row: CalendarExceptionRow,
    what: str,
    now: datetime,
) -> ExceptionChanged:
    """Record the change, commit, and start the workflow that tells every running workflow."""
    calendar = await load_calendar(session, settings, today=plant_today(settings))
    change = await record_change(session, version=calendar.version, what=what, by=by, at=now)
    public = exception_public(row)
    await session.commit()
    prefix = settings.task_queue_prefix
    workflow_id = calendar_change_workflow_id(prefix, change)
    try:
        await start_calendar_change(
            temporal,
            workflow_id,
            CalendarChangeInput(queue_prefix=prefix, change=change, version=calendar.version),
            f"calendar change {change}: {what}",
        )
    except RPCError as exc:
        # The change is stored: a worker starting up tells the last change's workflows.
        raise unavailable(
            f"the change is stored (calendar version {calendar.version}), but Temporal did not "
            f"take the workflow that tells running workflows ({exc.message}); it is started "
            "again when a worker starts"
        ) from exc
    return ExceptionChanged(
        exception=public, version=calendar.version, change=change, workflow_id=workflow_id
    )


@router.post("/years/{year}/confirm", response_model=YearConfirmed)
async def post_confirm_year(
    year: YearPath, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> YearConfirmed:
    """Record that the plant confirmed `year`'s calendar (planning) and acknowledge its
    reminder; its days then show `confirmed: true`. Confirming again keeps the first."""
    user.require(CHANGERS, "confirming a calendar year")
    row, acked = await confirm_year(
        session,
        year=year,
        country=settings.holidays_country,
        by=user.sub,
        at=datetime.now(UTC),
    )
    await session.commit()
    return YearConfirmed(
        year=row.year,
        country=row.country,
        confirmed_by=row.confirmed_by,
        at=row.at,
        acknowledged=acked,
    )
