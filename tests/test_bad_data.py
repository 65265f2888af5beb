"""Bad data in a workflow's step: the activity fails once (no retry loop), ops gets a `bad_data`
escalation naming the order, the step and the cause, and the workflow parks the step until ops
signals `retry_step` after correcting the data; a branch that raises escalates and ends alone;
a deadline on 9999-12-31 does not break the workflow task.

A probe workflow (a `TaskWorkflow` like the order) drives these paths directly, so the bad
data reaches the activity whatever the API's bounds refuse first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workflows.activity_calls as activity_calls
from app.worker import activities_for, local_writes
from shared.activities import DbActivities
from shared.activity_errors import BAD_DATA, MAX_MESSAGE, ActivityErrors
from shared.settings import Settings
from shared.task_state import DONE
from shared.temporal import DUE_DATE, department_queue, workflow_queue
from workflows.base import TaskWorkflow
from workflows.common import end_of_day
from workflows.escalation import EscalationDeliveryWorkflow
from workflows.tasks import wait_for

DEPARTMENT = "planning"


class Probe(BaseModel):
    order_no: str
    queue_prefix: str
    mode: str  # "step", "branch" or "far"


class ProbeActivities(DbActivities):
    """A step whose input is a row ops can correct: `v` must fit numeric(18,4)."""

    @activity.defn
    async def read_probe(self, key: str) -> str:
        async with self._engine.begin() as conn:
            row = await conn.execute(
                text("SELECT CAST(v AS numeric(18,4))::text FROM probe_data WHERE k = :k"),
                {"k": key},
            )
            return str(row.scalar_one())

    @activity.defn
    async def huge_failure(self, size: int) -> None:
        raise RuntimeError("x" * size)


@workflow.defn(sandboxed=False)
class ProbeWorkflow(TaskWorkflow):
    @workflow.init
    def __init__(self, probe: Probe) -> None:
        self._init_tasks(probe.order_no, probe.queue_prefix)
        self.finish = False

    @workflow.signal
    def done(self) -> None:
        self.finish = True

    @workflow.run
    async def run(self, probe: Probe) -> str:
        try:
            if probe.mode == "step":
                return await self.activity(ProbeActivities.read_probe, probe.order_no, "read it")
            if probe.mode == "huge":
                await self.activity(ProbeActivities.huge_failure, 3_000_000, "fail big")
            if probe.mode == "nul":
                # A completion the inbox cannot store (the API refuses NULs before this).
                task = await self.book.open("planning.delivery_review", "NUL inside")
                task.state, task.payload = DONE, {"note": "a\x00b"}
                await self.book._close(task)
                return "closed"
            if probe.mode == "bad_open":
                context = {"customer": "Huadian\x00"}
                task = await self.book.open("planning.delivery_review", "for \x00", context)
                await self.book.withdraw(task)
                return "withdrawn"
            if probe.mode == "branch":
                self.branch(self._explode())
                await workflow.wait_condition(lambda: self._branches == 1)
                return "branch ended"
            # A deadline at the end of time: task, watcher, search attribute and timer.
            deadline = end_of_day(date.max)
            workflow.upsert_search_attributes([DUE_DATE.value_set(deadline)])
            await self.book.open("planning.delivery_review", "far away", due_at=deadline)
            await wait_for(lambda: self.finish, deadline, "until the end of time")
            await self.book.withdraw_all()
            return "far"
        finally:
            self._finished = True

    async def _explode(self) -> None:
        await workflow.sleep(1)
        raise ValueError("promised_date 9999-12-31 is out of range")


@pytest.fixture
async def probe_table(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE probe_data (k text PRIMARY KEY, v text)"))
    return engine


@asynccontextmanager
async def probe_workers(
    client: Client, engine: AsyncEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """Workers for the probe on their own queue prefix; yields the prefix."""
    prefix = f"probe-{uuid.uuid4().hex[:8]}"
    owner = f"{ProbeActivities.__module__}.{ProbeActivities.__qualname__}"
    monkeypatch.setitem(activity_calls._OWNERS, owner, DEPARTMENT)
    probe = ProbeActivities(engine, settings)
    workers = [
        Worker(
            client,
            task_queue=workflow_queue(prefix),
            workflows=[ProbeWorkflow, EscalationDeliveryWorkflow],
            # The task book's inbox writes are local activities of the workflow worker.
            activities=local_writes(engine, settings),
            interceptors=[ActivityErrors()],
        ),
        Worker(
            client,
            task_queue=department_queue(prefix, DEPARTMENT),
            activities=[
                *activities_for(DEPARTMENT, engine, settings),
                probe.read_probe,
                probe.huge_failure,
            ],
            interceptors=[ActivityErrors()],
        ),
    ]
    runs = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield prefix
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers))
        await asyncio.gather(*runs, return_exceptions=True)


async def start(client: Client, prefix: str, mode: str) -> WorkflowHandle[Any, str]:
    order_no = f"SO-{uuid.uuid4().hex[:8]}"
    return await client.start_workflow(
        ProbeWorkflow.run,
        Probe(order_no=order_no, queue_prefix=prefix, mode=mode),
        id=f"probe-{order_no}",
        task_queue=workflow_queue(prefix),
    )


async def escalations(engine: AsyncEngine, order_no: str) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT kind, level, role, department, message FROM escalation.escalations "
                "WHERE order_no = :o ORDER BY id"
            ),
            {"o": order_no},
        )
        return list(rows.all())


async def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_bad_data_escalates_once_and_the_step_runs_again_after_the_fix(
    ts_env: WorkflowEnvironment,
    probe_table: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = probe_table
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "step")
        order_no = handle.id.removeprefix("probe-")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO probe_data VALUES (:k, '1e15')"), {"k": order_no})

        found = await until(lambda: escalations(engine, order_no))
        kind, level, role, department, message = found[0]
        assert (kind, level, role, department) == ("bad_data", 1, "ops", DEPARTMENT)
        assert "read it" in message and "numeric field overflow" in message
        assert "retry_step 1" in message
        description = await handle.describe()
        assert description.status is not None and description.status.name == "RUNNING"
        # One attempt: bad data is not retried (the escalation activity ran beside it).
        await asyncio.sleep(1)
        history = [e async for e in handle.fetch_history_events()]
        failed = [e for e in history if e.HasField("activity_task_failed_event_attributes")]
        assert len(failed) == 1
        assert (
            failed[0].activity_task_failed_event_attributes.failure.application_failure_info.type
            == BAD_DATA
        )

        # Ops corrects the row, then asks for the step again: the workflow goes on.
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE probe_data SET v = '12.5' WHERE k = :k"), {"k": order_no}
            )
        await handle.signal("retry_step", 1)
        assert await handle.result() == "12.5000"
        assert len(await escalations(engine, order_no)) == 1


async def test_a_step_failing_again_escalates_again(
    ts_env: WorkflowEnvironment,
    probe_table: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = probe_table
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "step")
        order_no = handle.id.removeprefix("probe-")
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO probe_data VALUES (:k, 'not a number')"), {"k": order_no}
            )
        await until(lambda: escalations(engine, order_no))
        await handle.signal("retry_step")  # not corrected: fails and parks again
        second = await until(
            lambda: _at_least(escalations(engine, order_no), 2)  # type: ignore[arg-type]
        )
        assert "retry_step 2" in second[1].message
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE probe_data SET v = '1' WHERE k = :k"), {"k": order_no})
        await handle.signal("retry_step", 2)
        assert await handle.result() == "1.0000"


async def _at_least(rows: Any, n: int) -> list[Any] | None:
    found = await rows
    return found if len(found) >= n else None


async def test_a_failing_branch_escalates_and_ends_without_the_workflow(
    ts_env: WorkflowEnvironment,
    engine: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "branch")
        assert await handle.result() == "branch ended"
        order_no = handle.id.removeprefix("probe-")
        [(kind, level, role, _, message)] = await escalations(engine, order_no)
        assert (kind, level, role) == ("branch_failed", 1, "ops")
        assert "ValueError: promised_date 9999-12-31 is out of range" in message


async def test_a_deadline_on_the_last_day_there_is_keeps_the_workflow_running(
    ts_env: WorkflowEnvironment,
    engine: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "far")
        order_no = handle.id.removeprefix("probe-")

        async def opened() -> Any:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT due_at FROM planning.tasks WHERE order_no = :o"), {"o": order_no}
                )
                return rows.scalar_one_or_none()

        due = await until(opened)
        assert due.year == 9999
        await handle.signal(ProbeWorkflow.done)
        assert await handle.result() == "far"
        async for event in handle.fetch_history_events():
            assert not event.HasField("workflow_task_failed_event_attributes"), event


async def test_a_huge_failure_reaches_the_ui_as_its_cause_cut_short(
    ts_env: WorkflowEnvironment,
    engine: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 3 MB message would be replaced by "Failure exceeds size limit."; cut, it says what.
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "huge")

        async def last_failure() -> Any:
            pending = (await handle.describe()).raw_description.pending_activities
            return pending[0].last_failure.message if pending and pending[0].attempt > 1 else None

        message = await until(last_failure)
        assert message.startswith("RuntimeError: xxx") and len(message) <= MAX_MESSAGE
        await handle.terminate()


async def test_a_completion_the_inbox_cannot_store_closes_without_its_payload(
    ts_env: WorkflowEnvironment,
    engine: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "nul")
        assert await handle.result() == "closed"
        order_no = handle.id.removeprefix("probe-")
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT state, payload FROM planning.tasks WHERE order_no = :o"),
                    {"o": order_no},
                )
            ).one()
        assert (row.state, row.payload) == ("done", None)
        [(kind, _, role, department, message)] = await escalations(engine, order_no)
        assert (kind, role, department) == ("bad_data", "ops", DEPARTMENT)
        assert "NUL inside" in message and "closed without its payload" in message


async def test_a_task_whose_context_the_inbox_cannot_store_opens_without_it(
    ts_env: WorkflowEnvironment,
    engine: AsyncEngine,
    base_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with probe_workers(ts_env.client, engine, base_settings, monkeypatch) as prefix:
        handle = await start(ts_env.client, prefix, "bad_open")
        assert await handle.result() == "withdrawn"
        order_no = handle.id.removeprefix("probe-")
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT title, context, state FROM planning.tasks WHERE order_no = :o"),
                    {"o": order_no},
                )
            ).one()
        assert (row.title, row.context, row.state) == ("for \\x00", {}, "withdrawn")
        [(kind, _, role, _, message)] = await escalations(engine, order_no)
        assert (kind, role) == ("bad_data", "ops") and "opened without its context" in message
