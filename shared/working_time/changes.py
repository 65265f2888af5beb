"""What CalendarChangeWorkflow's activities do: remind planning of years not yet published
(through the escalation store, once per year), and list the running workflows a change must
be told to."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from shared.activities import DbActivities
from shared.db import session_scope
from shared.escalations.store import store_escalation
from shared.settings import Settings
from shared.tasks.models import INBOXES, OPEN
from shared.temporal import workflow_queue
from shared.types import RaiseEscalation
from shared.working_time.store import (
    UNCONFIRMED,
    confirmed_years,
    covered_years,
    latest_change,
    plant_today,
    public_part,
    unconfirmed_key,
    years_to_remind,
)

log = logging.getLogger("orderflow.calendar")

# Workflows that keep no clocks: short scheduled runs and deliveries, and the fan-out itself.
# Telling them would only log an unhandled signal.
WITHOUT_CLOCKS = frozenset(
    {
        "CalendarChangeWorkflow",
        "DailyMrpWorkflow",
        "EscalationDeliveryWorkflow",
        "NoticeDeliveryWorkflow",
        "PlanReportWorkflow",
        "WeeklyUnshippedWorkflow",
    }
)


async def remind_unconfirmed(
    session: AsyncSession, settings: Settings, *, today: date, now: datetime
) -> list[tuple[int, int]]:
    """Raise the `calendar_unconfirmed` escalation (to planning, level 1) of every year to
    remind of; stored once per year by its key. The new reminders: (year, escalation id)."""
    public = public_part(settings, covered_years(today))
    raised = []
    for year in years_to_remind(public, await confirmed_years(session), today):
        stored = await store_escalation(
            session,
            RaiseEscalation(
                key=unconfirmed_key(year),
                kind=UNCONFIRMED,
                level=1,
                order_no="",
                department="planning",
                role="planning",
                breached_at=now,
                message=(
                    f"the public holidays of {year} ({public.country}) are computed by rule: "
                    "the government's schedule (make-up working days included) is not in the "
                    f"calendar yet. Check it, enter the plant's exceptions, then confirm the "
                    f"year: POST /planning/calendar/years/{year}/confirm"
                ),
            ),
        )
        if stored.created:
            raised.append((year, stored.id))
    return raised


# The reminders one run raised: each new escalation's year and id (to deliver it).
class Reminded(BaseModel):
    year: int
    escalation_id: int


# The last change of the exceptions: its number, the version after it, what it was.
class LastChange(BaseModel):
    change: int
    version: str
    what: str


# Which running workflows to list: this installation's, but not the asking one.
class RunningQuery(BaseModel):
    queue_prefix: str
    exclude: str


async def open_task_workflows(session: AsyncSession) -> set[str]:
    """The workflows that have an open task in some inbox (each keeps the task's SLA clock)."""
    query = union(
        *(select(table.c.workflow_id).where(table.c.state == OPEN) for table in INBOXES.values())
    )
    return set((await session.execute(query)).scalars())


class CalendarActivities(DbActivities):
    """Holds the engine, the settings and the Temporal client (to list running workflows)."""

    def __init__(self, engine: AsyncEngine, settings: Settings, client: Client) -> None:
        super().__init__(engine, settings)
        self._client = client

    @activity.defn
    async def remind_unconfirmed_years(self) -> list[Reminded]:
        """Raise the reminder of every rule-based year not confirmed (once per year, by key)."""
        async with session_scope(self._engine) as session:
            raised = await remind_unconfirmed(
                session,
                self._settings,
                today=plant_today(self._settings),
                now=datetime.now(UTC),
            )
        return [Reminded(year=year, escalation_id=esc_id) for year, esc_id in raised]

    @activity.defn
    async def last_change(self) -> LastChange | None:
        """The last change of the exceptions, if there was one."""
        async with session_scope(self._engine) as session:
            row = await latest_change(session)
        if row is None or row.id is None:
            return None
        return LastChange(change=row.id, version=row.version, what=row.what)

    @activity.defn
    async def running_workflows(self, query: RunningQuery) -> list[str]:
        """The ids of the running workflows on this installation's workflow queue that may keep
        clocks, and of the workflows of every open task (visibility lags a little, and the
        time-skipping test server has none), sorted."""
        queue = workflow_queue(query.queue_prefix)
        async with session_scope(self._engine) as session:
            found = await open_task_workflows(session)
        try:
            async for execution in self._client.list_workflows(
                f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"
            ):
                if execution.id != query.exclude and execution.workflow_type not in WITHOUT_CLOCKS:
                    found.add(execution.id)
        except RPCError as exc:
            # The time-skipping test server has no visibility: the open tasks' workflows only.
            if exc.status != RPCStatusCode.UNIMPLEMENTED:
                raise
            log.warning("this Temporal server cannot list workflows: telling those with tasks")
        found.discard(query.exclude)
        return sorted(found)
