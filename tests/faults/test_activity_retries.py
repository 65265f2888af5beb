"""Drill: every activity commits and then "dies" before it reports, and Temporal retries it.

A worker interceptor runs each activity of one order twice in a row, the way a worker killed
right after its commit makes Temporal run it again, and answers with the second run. The order
walks from intake to both lots inspected; it must end with exactly the rows of an order whose
activities ran once: no requisition, purchase order, receipt, lot, ledger movement, task,
escalation or timeline entry doubled.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from shared.settings import Settings
from tests.conftest import run_stack, settings_for
from tests.faults.orders import fingerprint, walk

# POSTs to webhooks are at least once by design (the receiver deduplicates by delivery id).
AT_LEAST_ONCE = frozenset({"deliver_webhook", "publish_plan_report"})


class RunTwice(Interceptor):
    """Runs every activity twice while `on` (the second run is the retry), counting them."""

    def __init__(self) -> None:
        self.on = False
        self.doubled: Counter[str] = Counter()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Twice(next, self)


class _Twice(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, drill: RunTwice) -> None:
        super().__init__(next)
        self.drill = drill

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = getattr(input.fn, "__name__", "")
        if not self.drill.on or name in AT_LEAST_ONCE:
            return await super().execute_activity(input)
        await super().execute_activity(input)  # committed, then the worker "died"
        self.drill.doubled[name] += 1
        return await super().execute_activity(input)


async def test_an_activity_retried_after_its_commit_doubles_nothing(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    drill = RunTwice()
    async with run_stack(
        settings_for(base_settings), ts_env.client, activity_interceptors=[drill]
    ) as stack:
        once = uuid.uuid4().hex[:6]
        expected = await fingerprint(engine, await walk(stack, once), once)
        drill.on = True
        twice = uuid.uuid4().hex[:6]
        found = await fingerprint(engine, await walk(stack, twice), twice)
    print(f"retry drill: {sum(drill.doubled.values())} activities run twice: {dict(drill.doubled)}")
    print(f"  {sum(found.values())} rows; missing {dict(expected - found)}")
    print(f"  extra {dict(found - expected)}")
    assert len(drill.doubled) >= 15, "the drill should reach most of the order's activities"
    assert (expected - found, found - expected) == (Counter(), Counter())
