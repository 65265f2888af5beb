"""Readers and builders shared by the daily MRP tests: stock on hand, one run of the daily MRP
workflow, the API as ops, and the requisitions of an item."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from services.procurement.models import Requisition
from services.warehouse.stock import change_stock
from shared.db import session_scope
from shared.material_types import DailyMrpInput, DailyMrpResult
from shared.settings import Settings
from shared.temporal import workflow_queue
from tests.conftest import THRESHOLD, Stack, run_stack, settings_for
from tests.plant_calendar import EVERY_DAY
from workflows.daily_mrp import DailyMrpWorkflow

D = Decimal
OPS = ("ops",)


# The conftest stacks on a plant that works every day: the daily MRP skips days off, and these
# tests run whatever day it is (a test module imports them to use them).
@pytest.fixture(name="stack")
async def every_day_stack(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> AsyncIterator[Stack]:
    async with run_stack(settings_for(base_settings, **EVERY_DAY), ts_env.client) as running:
        yield running


@pytest.fixture(name="flow")
async def every_day_flow(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> AsyncIterator[Stack]:
    settings = settings_for(base_settings, approval_threshold=THRESHOLD, **EVERY_DAY)
    async with run_stack(settings, ts_env.client) as running:
        yield running


async def _on_hand(engine: AsyncEngine, item: str, qty: int) -> None:
    async with session_scope(engine) as session:
        await change_stock(session, item, at=datetime.now(UTC), on_hand=D(qty))


async def _daily(stack: Stack) -> DailyMrpResult:
    """One run of the daily MRP workflow, as the schedule starts it."""
    prefix = stack.settings.task_queue_prefix
    return await stack.client.execute_workflow(
        DailyMrpWorkflow.run,
        DailyMrpInput(queue_prefix=prefix),
        id=f"{prefix}-daily-mrp-{uuid.uuid4().hex[:6]}",
        task_queue=workflow_queue(prefix),
    )


async def _get(stack: Stack, path: str, **params: str) -> Any:
    response = await stack.http.get(path, params=params, headers=stack.token("ops-bot", *OPS))
    assert response.status_code == 200, response.text
    return response.json()


async def _requisitions(engine: AsyncEngine, item: str) -> list[Requisition]:
    async with session_scope(engine) as session:
        rows = await session.execute(select(Requisition).where(col(Requisition.item) == item))
        return list(rows.scalars())
