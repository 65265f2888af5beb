"""An order's workflow continues as new when its history grows long, carrying its one
`OrderState`: with the threshold forced down to a single event, an order walks from intake to
`closed` across several runs, each picking up at the stage the previous one had entered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from shared.settings import Settings
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import MARGIN, advance_to
from tests.material_drivers import (
    assemble_and_close,
    order_view,
    production_start,
    to_production,
)


@pytest.fixture
async def short_history(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> AsyncIterator[Stack]:
    """The time-skipping stack with orders continuing as new at every safe point."""
    async with run_stack(settings_for(base_settings, order_history_events=1), ts_env.client) as s:
        yield s


async def _runs(stack: Stack, order_no: str) -> list[str]:
    """The stages each finished run of the order continued as new at, oldest first."""
    handle = stack.client.get_workflow_handle(f"order-{order_no}")
    first = (await handle.describe()).raw_description.workflow_execution_info.first_run_id
    stages, run_id = [], first
    while True:
        history = await stack.client.get_workflow_handle(
            f"order-{order_no}", run_id=run_id
        ).fetch_history()
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return stages
        attributes = last.workflow_execution_continued_as_new_event_attributes
        stages.append(await _stage_of(stack, history.events))
        run_id = attributes.new_execution_run_id


async def _stage_of(stack: Stack, events: Any) -> str:
    """The stage a run continued at: the `resume` state it handed on."""
    last = events[-1].workflow_execution_continued_as_new_event_attributes
    (payload,) = last.input.payloads
    (inp,) = await stack.client.data_converter.decode([payload], [dict])
    return str(inp["resume"]["stage"])


async def test_an_order_closes_across_several_runs_carrying_its_state(
    short_history: Stack, ts_env: WorkflowEnvironment
) -> None:
    flow, suffix = short_history, uuid.uuid4().hex[:6]
    order_no, view = await to_production(flow, ts_env, suffix)
    await advance_to(ts_env, production_start(view) + MARGIN)
    view = await assemble_and_close(flow, ts_env, order_no)
    assert (view["stage"], view["status"]) == ("closed", "closed")

    # Every stage entered with nothing running beside the main line was a safe point.
    # (Entering materials, the drawings release and the purchases still run beside it.)
    stages = await _runs(flow, order_no)
    assert stages == [
        "planning",
        "engineering",
        "production",
        "final_inspection",
        "delivery",
        "commissioning",
        "closing",
    ]
    handle = flow.client.get_workflow_handle(f"order-{order_no}")
    assert await handle.result() == "closed"
    where = await handle.query("state")
    assert where["runs"] == len(stages) + 1

    # What the earlier runs knew came along: the plan, its actuals and the whole timeline.
    view = await order_view(flow, order_no)
    assert view["plan"]["revision"] == 1
    actual = {m["name"]: m["actual"] for m in view["milestones"]}
    assert actual["production_start"] == production_start(view).date().isoformat()
    assert all(actual[name] for name in ("bom_release", "final_inspection", "ship"))
    kinds = [event["kind"] for event in view["timeline"]]
    assert kinds.count("order_received") == 1
    assert view["open_tasks"] == []
