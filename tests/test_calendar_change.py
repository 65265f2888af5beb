"""A calendar change reaches every running workflow (issue 13): the API starts
CalendarChangeWorkflow, which lists the running workflows of this installation (Temporal
visibility: the dev server, the time-skipping server has none) and signals `calendar_changed`
to each; and a worker start reminds planning of unpublished years once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio import workflow
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.worker import WORKFLOWS, build_workers, check_calendar, local_writes
from shared.db import create_engine, session_scope
from shared.escalations.models import Escalation
from shared.settings import Settings
from shared.temporal import workflow_queue
from shared.workflow_ids import calendar_check_workflow_id
from shared.working_time.clocks import CALENDAR_CHANGED, CalendarChanged
from shared.working_time.store import (
    UNCONFIRMED,
    covered_years,
    plant_today,
    public_part,
    record_change,
    unconfirmed_key,
    years_to_remind,
)
from tests.conftest import run_stack, settings_for
from tests.dev_server import dev_server_env  # noqa: F401  (the dev_env fixture)
from workflows.calendar_change import CalendarChangeResult


# Not sandboxed: this test module imports the whole app, which the sandbox would re-import.
@workflow.defn(sandboxed=False)
class ClockKeeper:
    """Stands for a workflow with clocks: records every calendar version it is told."""

    def __init__(self) -> None:
        self.versions: list[str] = []

    @workflow.signal(name=CALENDAR_CHANGED)
    def calendar_changed(self, changed: CalendarChanged) -> None:
        self.versions.append(changed.version)

    @workflow.query
    def told(self) -> list[str]:
        return self.versions

    @workflow.run
    async def run(self, wanted: int) -> list[str]:
        await workflow.wait_condition(lambda: len(self.versions) >= wanted)
        return self.versions


async def _told(handle: WorkflowHandle[ClockKeeper, list[str]], count: int) -> list[str]:
    for _ in range(300):
        versions = await handle.query(ClockKeeper.told)
        if len(versions) >= count:
            return versions
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} was told {versions}, not {count} change(s)")


async def test_adding_and_deleting_an_exception_signals_every_running_workflow(
    base_settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    settings = settings_for(base_settings)
    client = dev_env.client
    queue = workflow_queue(settings.task_queue_prefix)
    async with run_stack(settings, client, workers=False) as stack:
        engine = create_engine(settings.database_url)
        planning = build_workers(client, engine, settings, queues=["planning"])
        workflows = Worker(
            client,
            task_queue=queue,
            workflows=[*WORKFLOWS, ClockKeeper],
            activities=local_writes(engine, settings),  # the workflows' local activities
        )
        runs = [asyncio.create_task(w.run()) for w in (*planning, workflows)]
        try:
            keepers = [
                await client.start_workflow(
                    ClockKeeper.run, 3, id=f"keeper-{uuid.uuid4().hex[:8]}", task_queue=queue
                )
                for _ in range(2)
            ]
            # One that ends before the change is not told (and does not fail the fan-out).
            ended = await client.start_workflow(
                ClockKeeper.run, 0, id=f"keeper-{uuid.uuid4().hex[:8]}", task_queue=queue
            )
            await ended.result()
            planner = stack.token("planner", "planning")
            body = {"kind": "day_off", "start": "2026-05-11", "end": "2026-05-12", "reason": "x"}
            added = (
                await stack.http.post("/planning/calendar/exceptions", json=body, headers=planner)
            ).json()
            for keeper in keepers:
                assert await _told(keeper, 1) == [added["version"]]
            fanout = client.get_workflow_handle(
                added["workflow_id"], result_type=CalendarChangeResult
            )
            assert (await fanout.result()).signalled == 2
            exception_id = added["exception"]["id"]
            deleted = (
                await stack.http.delete(
                    f"/planning/calendar/exceptions/{exception_id}", headers=planner
                )
            ).json()
            for keeper in keepers:
                assert await _told(keeper, 2) == [added["version"], deleted["version"]]
            # A change whose run the API could not start (Temporal refused: 503) is told by
            # the worker's daily check; the changes told before are not told again.
            async with session_scope(engine) as session:
                missed = await record_change(
                    session, version="v-missed", what="missed", by="planner", at=datetime.now(UTC)
                )
            assert await check_calendar(client, settings)
            check = client.get_workflow_handle(
                calendar_check_workflow_id(
                    settings.task_queue_prefix, plant_today(settings).isoformat()
                ),
                result_type=CalendarChangeResult,
            )
            assert (await check.result()).made_up == missed
            for keeper in keepers:
                assert await keeper.result() == [added["version"], deleted["version"], "v-missed"]
        finally:
            await asyncio.gather(*(w.shutdown() for w in (*planning, workflows)))
            await asyncio.gather(*runs, return_exceptions=True)
            await engine.dispose()


async def test_a_worker_start_reminds_planning_once(
    base_settings: Settings, dev_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    settings = settings_for(base_settings)
    today = plant_today(settings)
    public = public_part(settings, covered_years(today))
    expected = [unconfirmed_key(y) for y in years_to_remind(public, set(), today)]
    async with run_stack(settings, dev_env.client, workers=True):
        assert await check_calendar(dev_env.client, settings)
        # Once a day, however often a worker starts.
        assert not await check_calendar(dev_env.client, settings)
        check_id = calendar_check_workflow_id(settings.task_queue_prefix, today.isoformat())
        result = await dev_env.client.get_workflow_handle(
            check_id, result_type=CalendarChangeResult
        ).result()
        assert [unconfirmed_key(y) for y in result.reminded] == expected
        assert result.made_up is None  # no change was ever made
        async with session_scope(engine) as session:
            keys = (
                await session.execute(
                    select(col(Escalation.key)).where(col(Escalation.kind) == UNCONFIRMED)
                )
            ).scalars()
            assert sorted(keys) == expected
