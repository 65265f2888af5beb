"""Fixtures of the fault drills: the `runner` (an `orderflow run` stack on free ports) for the
whole-tree drills, and a Temporal dev server (real time, so an activity whose worker died is
retried when its timeout runs out) for the drills that kill one process."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from shared.temporal import SEARCH_ATTRIBUTES
from tests.e2e.test_stack import runner

__all__ = ["dev_env", "runner"]

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()
