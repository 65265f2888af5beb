"""The real Temporal dev server, for the tests of Temporal Schedules: the time-skipping server
does not implement schedules.

A test module imports `dev_server_env` to get the module-scoped `dev_env` fixture."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from shared.temporal import SEARCH_ATTRIBUTES


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
