"""The calendar's store (issue 13): exceptions kept in PostgreSQL and the calendar built from
them, the overlap rule, the reminder of years not yet published (once per year), and a year's
confirmation acknowledging it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from shared.db import session_scope
from shared.escalations.models import Escalation
from shared.settings import Settings
from shared.working_time import store
from shared.working_time.changes import remind_unconfirmed
from shared.working_time.data import PublicCalendar
from shared.working_time.models import CalendarExceptionRow
from shared.working_time.store import (
    UNCONFIRMED,
    CalendarSource,
    Overlap,
    add_exception,
    confirm_year,
    delete_exception,
    list_exceptions,
    load_calendar,
    unconfirmed_key,
    years_to_remind,
)
from tests.plant_calendar import PLANT_CLOCKS


@pytest.fixture
def base_settings(base_settings: Settings) -> Settings:
    """This module's tests run on the plant's default calendar (tests/plant_calendar.py)."""
    return base_settings.model_copy(update=PLANT_CLOCKS)


NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 4)


async def _add(engine: AsyncEngine, kind: str, start: date, end: date, shifts: str = "") -> int:
    async with session_scope(engine) as session:
        row = await add_exception(
            session,
            kind=kind,
            start=start,
            end=end,
            shifts=shifts,
            reason=f"{kind} {start}",
            by="planner",
            at=NOW,
        )
        return row.id or 0


async def test_a_shutdown_makes_its_days_off_and_deleting_it_restores_them(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    source = CalendarSource(engine, base_settings)
    before = await source.current()
    assert before.day(date(2026, 3, 4)).working  # a Wednesday
    shutdown = await _add(engine, "day_off", date(2026, 3, 2), date(2026, 3, 6))
    during = await source.current()
    assert during.version != before.version
    for day in range(2, 7):
        work = during.day(date(2026, 3, day))
        assert not work.working and work.shifts == ()
        assert work.note is not None and "day_off 2026-03-02" in work.note
    assert during.day(date(2026, 3, 9)).working
    async with session_scope(engine) as session:
        await delete_exception(session, exception_id=shutdown)
    after = await source.current()
    assert after.day(date(2026, 3, 4)).working
    assert after.version == before.version


async def test_an_extra_working_saturday_with_its_own_shifts(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    await _add(engine, "working_day", date(2026, 3, 7), date(2026, 3, 7), "08:00-12:00")
    calendar = await CalendarSource(engine, base_settings).current()
    saturday = calendar.day(date(2026, 3, 7))
    assert saturday.working
    assert [(s.start, s.end) for s in saturday.shifts] == [(8 * 60, 12 * 60)]
    assert not calendar.day(date(2026, 3, 8)).working


async def test_the_source_sees_a_change_at_once_and_reuses_an_unchanged_calendar(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    source = CalendarSource(engine, base_settings)
    first = await source.current()
    assert await source.current() is first  # nothing changed: the same calendar, not rebuilt
    assert source.builds == 1
    # A change stored by another session (as another process would) is seen by the next call.
    shutdown = await _add(engine, "day_off", date(2026, 3, 2), date(2026, 3, 6))
    changed = await source.current()
    assert changed is not first and source.builds == 2
    assert not changed.day(date(2026, 3, 4)).working
    assert await source.current() is changed
    # Any column of an exception is part of what the calendar is built from: its reason too.
    async with session_scope(engine) as session:
        row = await session.get(CalendarExceptionRow, shutdown)
        assert row is not None
        row.reason = "stock-take"
    renamed = await source.current()
    assert renamed is not changed and "stock-take" in (renamed.day(date(2026, 3, 4)).note or "")
    # Deleting it builds the calendar of no exceptions again: the first one's version.
    async with session_scope(engine) as session:
        await delete_exception(session, exception_id=shutdown)
    after = await source.current()
    assert after.version == first.version and after.day(date(2026, 3, 4)).working
    assert source.builds == 4
    # covering() keeps its own calendar per range of years, beside current()'s.
    far = await source.covering(date(2040, 1, 1), date(2040, 12, 31))
    assert await source.covering(date(2040, 1, 1), date(2040, 12, 31)) is far
    assert await source.current() is after and source.builds == 5


async def test_a_new_year_covers_new_years_and_builds_a_new_calendar(
    engine: AsyncEngine, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = [date(2026, 12, 31)]
    monkeypatch.setattr(store, "plant_today", lambda settings: today[0])
    source = CalendarSource(engine, base_settings)
    old_year = await source.current()
    assert await source.current() is old_year
    assert max(old_year.data.public.holidays).year == 2031  # 2026 + YEARS_AFTER
    today[0] = date(2027, 1, 1)
    new_year = await source.current()
    assert new_year is not old_year and source.builds == 2
    assert max(new_year.data.public.holidays).year == 2032
    assert min(new_year.data.public.holidays).year == 2025  # 2027 - YEARS_BEFORE
    assert await source.current() is new_year


async def test_no_two_exceptions_share_a_date(engine: AsyncEngine) -> None:
    first = await _add(engine, "day_off", date(2026, 8, 3), date(2026, 8, 7))
    for start, end in [
        (date(2026, 8, 7), date(2026, 8, 10)),  # its last day
        (date(2026, 7, 30), date(2026, 8, 3)),  # its first day
        (date(2026, 8, 4), date(2026, 8, 5)),  # inside it
        (date(2026, 7, 1), date(2026, 9, 1)),  # around it
    ]:
        with pytest.raises(Overlap) as refused:
            await _add(engine, "shifts", start, end, "08:00-12:00")
        assert refused.value.other_id == first
        assert f"exception {first} (day_off 2026-08-03..2026-08-07" in str(refused.value)
    # The days just before and after are free.
    await _add(engine, "working_day", date(2026, 8, 1), date(2026, 8, 2))
    await _add(engine, "shifts", date(2026, 8, 8), date(2026, 8, 8), "08:00-12:00")
    async with session_scope(engine) as session:
        listed = [(row.start_date, row.kind) for row in await list_exceptions(session)]
    assert listed == [
        (date(2026, 8, 1), "working_day"),
        (date(2026, 8, 3), "day_off"),
        (date(2026, 8, 8), "shifts"),
    ]


async def test_deleting_an_unknown_exception_is_a_lookup_error(engine: AsyncEngine) -> None:
    async with session_scope(engine) as session:
        with pytest.raises(LookupError):
            await delete_exception(session, exception_id=4242)


def test_years_to_remind_are_the_unpublished_ones_up_to_next_year() -> None:
    public = PublicCalendar(country="CN", official_through=2026)
    assert years_to_remind(public, set(), date(2026, 12, 4)) == [2027]
    assert years_to_remind(public, {2027}, date(2026, 12, 4)) == []
    assert years_to_remind(public, set(), date(2027, 3, 1)) == [2027, 2028]
    assert years_to_remind(public, set(), date(2025, 6, 1)) == []  # 2026 is published
    assert years_to_remind(PublicCalendar(country=None), set(), date(2026, 12, 4)) == []
    fixed_rules = PublicCalendar(country="DE", official_through=None)
    assert years_to_remind(fixed_rules, set(), date(2026, 12, 4)) == []


async def test_the_reminder_is_raised_once_per_year_and_confirming_acknowledges_it(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    async with session_scope(engine) as session:
        calendar = await load_calendar(session, base_settings, today=TODAY)
    official_through = calendar.data.public.official_through
    assert official_through is not None
    # A day in the first year after the published ones: that year is next year.
    today = date(official_through, 12, 1)
    year = official_through + 1
    async with session_scope(engine) as session:
        first = await remind_unconfirmed(session, base_settings, today=today, now=NOW)
    async with session_scope(engine) as session:
        again = await remind_unconfirmed(session, base_settings, today=today, now=NOW)
    assert [y for y, _ in first] == [year]
    assert again == []
    async with session_scope(engine) as session:
        rows = list(
            (
                await session.execute(select(Escalation).where(col(Escalation.kind) == UNCONFIRMED))
            ).scalars()
        )
    assert [(r.key, r.role, r.level, r.state) for r in rows] == [
        (unconfirmed_key(year), "planning", 1, "open")
    ]
    assert f"/planning/calendar/years/{year}/confirm" in rows[0].message
    async with session_scope(engine) as session:
        confirmed, acked = await confirm_year(
            session, year=year, country="CN", by="planner", at=NOW
        )
    assert (confirmed.year, confirmed.confirmed_by, acked) == (year, "planner", [rows[0].id])
    async with session_scope(engine) as session:
        twice, acked_again = await confirm_year(
            session, year=year, country="CN", by="someone-else", at=NOW
        )
        escalation = await session.get(Escalation, rows[0].id)
    assert (twice.confirmed_by, acked_again) == ("planner", [])
    assert escalation is not None and escalation.state == "acked"
    assert escalation.acked_by == "planner"
