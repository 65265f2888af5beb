"""The real Temporal dev server, for the tests of Temporal Schedules: the time-skipping server
does not implement schedules.

A test module imports `dev_server_env` to get the module-scoped `dev_env` fixture."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from shared.temporal import SEARCH_ATTRIBUTES

R = TypeVar("R")


@pytest.fixture(scope="module", name="dev_env")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


async def trigger_and_wait(
    client: Client, handle: ScheduleHandle, result_type: type[R]
) -> tuple[ScheduleActionResult, str, R]:
    """Trigger a schedule now and wait for the workflow it starts: (the action, the started
    workflow's id, its result). Its workers must be running."""
    await handle.trigger()
    for _ in range(200):
        actions = (await handle.describe()).info.recent_actions
        if actions:
            break
        await asyncio.sleep(0.05)
    (started,) = actions
    execution = started.action
    assert isinstance(execution, ScheduleActionExecutionStartWorkflow)
    run = client.get_workflow_handle(execution.workflow_id, result_type=result_type)
    result = await asyncio.wait_for(run.result(), timeout=30)
    return started, execution.workflow_id, result
