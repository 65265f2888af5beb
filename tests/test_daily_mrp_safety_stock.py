"""The daily MRP run (P4.2, §4.5) on the time-skipping stack: safety stock topped up and bought
on a stock PO after the department head approves it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus

from services.engineering.models import Item
from shared.material_types import StockReplenishment
from shared.temporal import workflow_queue
from shared.types import RequisitionSettled
from shared.workflow_ids import requisition_workflow_id
from tests.conftest import Stack
from tests.daily_mrp_drivers import (  # the stacks: a plant working every day
    _daily,
    _get,
    _on_hand,
    _requisitions,
    every_day_flow,  # noqa: F401
    every_day_stack,  # noqa: F401
)
from workflows.replenishment import StockReplenishmentWorkflow
from workflows.requisition import RequisitionWorkflow

D = Decimal


# -- builders and readers ----------------------------------------------------------------------


async def _item(
    engine: AsyncEngine,
    item: str,
    *,
    safety_stock: int = 0,
    supplier: str = "Fastenal",
    special: bool = False,
) -> None:
    """An item in the master, as a BOM release would add it."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(Item)
            .values(
                item=item,
                make_or_buy="buy",
                supplier=supplier,
                lead_days=7,
                special=special,
                safety_stock=D(safety_stock),
                first_order_no="SO-seed",
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )


async def _stock_tasks(stack: Stack, kind: str, key: str, state: str = "open") -> list[Any]:
    """Tasks of `kind` about one requisition in the procurement inbox."""
    tasks = await _get(stack, "/procurement/tasks", kind=kind, state=state)
    return [t for t in tasks if t["context"].get("key") == key]


async def _wait_stock_task(stack: Stack, kind: str, key: str) -> dict[str, Any]:
    for _ in range(300):
        found = await _stock_tasks(stack, kind, key)
        if found:
            return dict(found[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no open {kind} for requisition {key}")


# -- safety stock (§4.5) -----------------------------------------------------------------------


async def test_safety_stock_below_its_level_is_approved_and_bought_on_a_stock_po(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"CABLE-TIE-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=50)
    await _on_hand(engine, item, 10)

    first = await _daily(stack)
    (requisition,) = first.safety_stock.created
    assert (requisition.item, requisition.qty, requisition.reason) == (item, 40, "safety_stock")
    (row,) = await _requisitions(engine, item)
    assert (row.key, row.order_no, row.state, row.supplier, row.lead_days) == (
        requisition.key,
        None,
        "open",
        "Fastenal",
        7,
    )
    approval = await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    assert approval["order_no"] == ""
    assert approval["workflow_id"] == requisition_workflow_id(requisition.key)

    # The same day again: the open requisition stands, nothing is created or opened twice.
    second = await _daily(stack)
    assert second.safety_stock.created == []
    assert len(await _requisitions(engine, item)) == 1
    assert len(await _stock_tasks(stack, "procurement.stock_approval", requisition.key)) == 1

    refused = await _post_completion(stack, approval, {"approved": True}, ("procurement",))
    assert refused.status_code == 403  # the department head approves stock (§4.5)
    approved = await _complete_stock_task(
        stack, approval, {"approved": True, "comment": "top up"}, ("head:procurement",)
    )
    assert approved == "approved"
    place = await _wait_stock_task(stack, "procurement.place_po", requisition.key)
    promised = (date.today() + timedelta(days=7)).isoformat()
    too_soon = {"supplier": "Fastenal", "promised_date": date.today().isoformat()}
    refused = await _post_completion(stack, place, too_soon, ("procurement",))
    assert refused.status_code == 422 and "after today" in refused.text
    ordered = await _complete_stock_task(
        stack, place, {"supplier": "Fastenal", "promised_date": promised}, ("procurement",)
    )
    assert ordered == "ordered"
    replenishment = stack.client.get_workflow_handle(
        requisition_workflow_id(requisition.key), result_type=RequisitionSettled
    )
    assert (await replenishment.result()).state == "ordered"

    orders = await _get(stack, "/procurement/purchase-orders")
    (po,) = orders
    assert po["order_no"] is None and po["supplier"] == "Fastenal"
    assert po["promised_date"] == promised and po["po_no"].startswith("PO-STOCK-")
    assert [(line["item"], D(line["qty"])) for line in po["lines"]] == [(item, D(40))]
    (row,) = await _requisitions(engine, item)
    assert row.state == "ordered"

    # 10 on hand and 40 on order reach the level: the next run proposes nothing.
    third = await _daily(stack)
    assert third.safety_stock.created == []
    assert len(await _requisitions(engine, item)) == 1


async def test_rejected_safety_stock_requisition_buys_nothing(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"FUSE-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=20)

    result = await _daily(stack)
    (requisition,) = result.safety_stock.created
    assert (requisition.item, requisition.qty) == (item, 20)  # nothing on hand at all
    approval = await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    rejected = await _complete_stock_task(
        stack, approval, {"approved": False, "comment": "obsolete"}, ("head:procurement",)
    )
    assert rejected == "rejected"
    handle = stack.client.get_workflow_handle(
        requisition_workflow_id(requisition.key), result_type=RequisitionSettled
    )
    assert (await handle.result()).state == "rejected"
    (row,) = await _requisitions(engine, item)
    assert row.state == "rejected"
    assert await _stock_tasks(stack, "procurement.place_po", requisition.key) == []


async def test_a_replenishment_gone_without_a_decision_is_started_again(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"GLAND-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=15)
    (requisition,) = [r for r in (await _daily(stack)).safety_stock.created if r.item == item]
    approval = await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    handle = stack.client.get_workflow_handle(requisition_workflow_id(requisition.key))
    first = (await handle.describe()).run_id
    await handle.terminate("test: worker lost")

    again = await _daily(stack)
    assert [r.key for r in again.safety_stock.awaiting_approval if r.item == item] == [
        requisition.key
    ]
    assert [r for r in again.safety_stock.created if r.item == item] == []
    restarted = await handle.describe()
    assert restarted.run_id != first and restarted.status == WorkflowExecutionStatus.RUNNING
    assert len(await _requisitions(engine, item)) == 1
    # The inbox row the first run opened is the restarted run's task.
    assert [
        t["task_id"]
        for t in await _stock_tasks(stack, "procurement.stock_approval", requisition.key)
    ] == [approval["task_id"]]
    stage = await _complete_stock_task(stack, approval, {"approved": True}, ("head:procurement",))
    assert stage == "approved"


async def test_a_replenishment_of_an_earlier_run_still_buying_is_not_started_twice(
    stack: Stack, engine: AsyncEngine
) -> None:
    """A safety-stock requisition a StockReplenishmentWorkflow (from before requisitions had
    their own workflow) still waits on is left to it: no RequisitionWorkflow beside it."""
    item = f"LUG-{uuid.uuid4().hex[:8]}"
    await _item(engine, item, safety_stock=15)
    (requisition,) = [r for r in (await _daily(stack)).safety_stock.created if r.item == item]
    await _wait_stock_task(stack, "procurement.stock_approval", requisition.key)
    current = stack.client.get_workflow_handle(requisition_workflow_id(requisition.key))
    terminated = (await current.describe()).run_id
    await current.terminate("test: as if started before RequisitionWorkflow")
    legacy = await stack.client.start_workflow(
        StockReplenishmentWorkflow.run,
        StockReplenishment(requisition=requisition, queue_prefix=stack.settings.task_queue_prefix),
        id=f"replenish-{requisition.key}",
        task_queue=workflow_queue(stack.settings.task_queue_prefix),
    )
    for _ in range(300):
        tasks = await _stock_tasks(stack, "procurement.stock_approval", requisition.key)
        mine = [t for t in tasks if t["workflow_id"] == legacy.id]
        if mine:
            break
        await asyncio.sleep(0.05)
    (approval,) = mine

    again = await _daily(stack)
    assert [r.key for r in again.safety_stock.awaiting_approval if r.item == item] == [
        requisition.key
    ]
    # Not started again: still the run terminated above (whose inbox row stays as it was).
    described = await current.describe()
    assert (described.run_id, described.status) == (terminated, WorkflowExecutionStatus.TERMINATED)
    tasks = await _stock_tasks(stack, "procurement.stock_approval", requisition.key)
    assert sorted(t["workflow_id"] for t in tasks) == sorted([legacy.id, current.id])
    approved = await _post_completion(stack, approval, {"approved": True}, ("head:procurement",))
    assert approved.status_code == 200, approved.text
    state = await legacy.query(StockReplenishmentWorkflow.status)
    assert state["state"] == "approved"


async def _post_completion(
    stack: Stack, task: dict[str, Any], payload: dict[str, Any], roles: tuple[str, ...]
) -> httpx.Response:
    return await stack.http.post(
        f"/procurement/tasks/{task['task_id']}/complete",
        json=payload,
        headers=stack.token("head-of-buying", *roles),
    )


async def _complete_stock_task(
    stack: Stack, task: dict[str, Any], payload: dict[str, Any], roles: tuple[str, ...]
) -> str:
    """Complete a stock task over HTTP (the answer is the task: it belongs to no order); returns
    the replenishment's state, which the workflow has reached when the call returns."""
    response = await _post_completion(stack, task, payload, roles)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["task_id"], done["state"], done["order_no"]) == (task["task_id"], "done", "")
    handle = stack.client.get_workflow_handle(task["workflow_id"])
    return str((await handle.query(RequisitionWorkflow.status))["state"])
