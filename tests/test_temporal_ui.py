"""What operations see in the Temporal Web UI, checked on the real dev server (the
time-skipping server drops summaries): search attributes, summaries, current details; and a
replay of the recorded history, which guards the workflow's determinism."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from app.worker import WORKFLOWS
from shared.settings import Settings
from shared.temporal import ESCALATED, ORDER_NO, SEARCH_ATTRIBUTES, STAGE
from tests.conftest import Stack, run_stack, settings_for
from tests.helpers import complete_ok, create_order, recorded_histories, wait_task


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def dev_stack(base_settings: Settings, dev_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    async with run_stack(settings_for(base_settings), dev_env.client) as running:
        yield running


async def _to_engineering(stack: Stack) -> str:
    order_no = await create_order(stack)
    await complete_ok(
        stack, "engineering.contract_review", order_no, {"ok": True, "design_days": 5}
    )
    await complete_ok(
        stack, "procurement.lead_time_review", order_no, {"lead_days": 20, "critical_items": []}
    )
    review = await wait_task(stack, "planning.delivery_review", order_no)
    await complete_ok(
        stack,
        "planning.delivery_review",
        order_no,
        {"delivery_date": review["context"]["proposed_date"]},
    )
    await complete_ok(stack, "sales.confirm_delivery", order_no, {"accepted": True})
    await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    return order_no


async def test_history_reads_as_the_process_with_summaries_and_search_attributes(
    dev_stack: Stack,
) -> None:
    order_no = await _to_engineering(dev_stack)
    handle = dev_stack.client.get_workflow_handle(f"order-{order_no}")
    described = await handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(ORDER_NO) == order_no
    assert attributes.get(STAGE) == "engineering"
    assert attributes.get(ESCALATED) is None
    # The UI heads the workflow with the summary given at its start (the extended info holds
    # only times and request ids); the stage is the search attribute above and the current
    # details (next test).
    assert await described.static_summary() == (
        f"{order_no} · Huadian Power Equipment · 10 kV switchgear line-up"
    )
    history = await handle.fetch_history()
    unsummarised = [
        event.event_id
        for event in history.events
        if event.event_type
        in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            EventType.EVENT_TYPE_TIMER_STARTED,
        )
        and not event.user_metadata.HasField("summary")
    ]
    assert unsummarised == []
    timers = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    assert len(timers) >= 8  # every open task's SLA clock and every milestone of the plan


async def test_current_details_say_where_the_order_stands(dev_stack: Stack) -> None:
    order_no = await _to_engineering(dev_stack)
    handle = dev_stack.client.get_workflow_handle(f"order-{order_no}")
    metadata = await handle.query("__temporal_workflow_metadata")
    details = metadata.current_details
    assert order_no in details and "engineering" in details
    assert "engineering.release_bom" in details


async def test_recorded_histories_replay_with_the_current_code(dev_stack: Stack) -> None:
    order_no = await _to_engineering(dev_stack)
    fresh = await dev_stack.client.get_workflow_handle(f"order-{order_no}").fetch_history()
    recorded = recorded_histories()
    assert recorded, "tests/histories/ holds the recorded histories to replay"
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    for history in [fresh, *recorded]:
        await replayer.replay_workflow(history)
