"""A cancellation's settlement with the customer (issue 16, item 3) on the time-skipping
server: the cancel answers the cost at once, with `sales.cancellation_settlement` open and due;
left undone it escalates; the order is `cancelled` only once the fee agreed is recorded, which
the timeline keeps with its reference."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.cancellation_drivers import FEE_AGREED, _cancel, _cancel_ok, _settle
from tests.conftest import Stack
from tests.drivers import open_tasks_everywhere
from tests.helpers import MARGIN, advance_to, complete, create_order, wait_escalation, wait_task
from tests.material_drivers import order_view


async def test_a_cancelled_order_waits_for_the_fee_agreed_with_the_customer(
    flow: Stack, ts_env: WorkflowEnvironment
) -> None:
    order_no = await create_order(flow)
    await wait_task(flow, "engineering.contract_review", order_no)
    result = await _cancel_ok(flow, order_no)
    assert (result["stage_at_cancel"], result["cost"]["currency"]) == ("review", "CNY")

    # The cost came back; the order is not cancelled yet: sales agrees the settlement first.
    (task,) = await open_tasks_everywhere(flow, order_no)
    assert task["kind"] == "sales.cancellation_settlement" and task["due_at"], task
    assert task["context"]["cost_total"] == result["cost"]["total"]
    assert task["context"]["reason"] == "the utility withdrew the project"
    view = await order_view(flow, order_no)
    assert view["status"] != "cancelled"
    again = await _cancel(flow, order_no)
    assert again.status_code == 409 and "being cancelled" in again.json()["detail"]

    # A fee needs its amount; a settlement of nothing has none.
    for wrong in ({**FEE_AGREED, "amount": 0}, {**FEE_AGREED, "settlement": "none"}):
        refused = await complete(flow, "sales.cancellation_settlement", order_no, wrong)
        assert refused.status_code == 422, refused.text

    # Left undone past its due time, it escalates like every task: the order is not forgotten.
    await advance_to(ts_env, await ts_env.get_current_time() + timedelta(days=1) + MARGIN)
    late = await wait_escalation(flow, order_no, lambda e: e["task_id"] == task["task_id"])
    assert late["kind"] == "task_overdue"

    await _settle(flow, order_no)
    view = await order_view(flow, order_no)
    assert (view["stage"], view["status"]) == ("cancelled", "cancelled")
    assert view["status_reason"] == "the utility withdrew the project"
    [settled] = [e for e in view["timeline"] if e["kind"] == "cancellation_settled"]
    assert settled["detail"]["reference"] == FEE_AGREED["reference"]
    assert (settled["detail"]["settlement"], settled["detail"]["amount"]) == ("fee", "15000.00")
    assert "fee 15000.00 CNY (customer pays)" in settled["summary"]
    assert await open_tasks_everywhere(flow, order_no) == []
    handle = flow.client.get_workflow_handle(f"order-{order_no}")
    assert await asyncio.wait_for(handle.result(), timeout=15) == "cancelled"
