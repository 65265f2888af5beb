"""Cancelling an order after a receipt, end to end on the time-skipping server: one lot
reserved and one still at quality. Its stock is freed and goods still waiting for quality carry
on for stock, as does a delivery received a moment before the cancellation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from tests.cancellation_drivers import (
    BOLT_PRICE,
    BREAKER_PRICE,
    D,
    _assert_nothing_open,
    _cancel_ok,
    _charges,
    _escalations_resolved,
    _far_past,
    _get,
    _money,
    _open_work_orders,
    _place_priced_pos,
    _refused_again,
    _timers_stopped,
)
from tests.conftest import Stack
from tests.drivers import (
    to_master_plan,
)
from tests.helpers import (
    MARGIN,
    advance_to,
    complete_ok,
    create_order,
    escalations,
    wait_escalation,
    wait_task,
)
from tests.material_drivers import (
    SETS,
    inspect,
    receive_ok,
    to_materials,
    two_level_bom,
)

# -- (3) after a receipt, one lot reserved and one still at quality ------------------------------


async def _short_of_breakers(stack: Stack, suffix: str) -> str:
    """Another order whose only bought part is the breaker: its BOM released, MRP finds it
    short of all six (the shelf's six are reserved for the first order)."""
    order_no = await create_order(stack)
    await to_master_plan(stack, order_no)
    await complete_ok(stack, "planning.master_plan", order_no, {"accept_proposal": True})
    lines = [x for x in two_level_bom(suffix) if x["item"] in ("KYN28-12", f"VS1-{suffix}")]
    await complete_ok(stack, "engineering.release_bom", order_no, {"lines": lines})
    return order_no


async def test_cancel_after_receipt_frees_its_stock_and_leaves_the_pending_lot_to_stock(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    bolts_po, breakers_po = await _place_priced_pos(flow, order_no, suffix)
    # All six breakers in, inspected and reserved for the order.
    breakers = await receive_ok(
        flow, breakers_po, "Chint", [{"item": breaker, "qty_noted": SETS, "qty_counted": SETS}]
    )
    await inspect(
        flow,
        order_no,
        breakers["lot_no"],
        [{"item": breaker, "qualified_qty": SETS, "rejected_qty": 0}],
    )
    other = await _short_of_breakers(flow, suffix)
    # 200 of the 288 bolts in; quality has not inspected them yet.
    bolts = await receive_ok(
        flow, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": 200, "qty_counted": 200}]
    )
    pending = await wait_task(flow, "quality.incoming_inspection", order_no)
    assert pending["context"]["lot_no"] == bolts["lot_no"]
    # Past its 8 hours: the inspection is escalated to the head of quality, under the order.
    await advance_to(ts_env, datetime.fromisoformat(pending["due_at"]) + MARGIN)
    late = await wait_escalation(flow, order_no, lambda e: e["task_id"] == pending["task_id"])
    [shelf] = await _get(flow, "/warehouse/stock", item=breaker)
    assert {k: D(v) for k, v in shelf["reserved"].items()} == {order_no: SETS}
    work_orders = await _open_work_orders(flow, order_no)

    result = await _cancel_ok(flow, order_no)

    cost = result["cost"]
    # Received: 6 breakers at 1250 and 200 bolts at 0.35; still owed: 88 bolts.
    assert _money(cost) == {
        "received_material": D("7570.00"),
        "work_done": D("0.00"),
        "open_commitments": D("30.80"),
        "total": D("7600.80"),
    }
    assert _charges(cost) == [
        ("open_commitment", bolt, D(88), BOLT_PRICE, D("30.80"), bolts_po),
        ("received", bolt, D(200), BOLT_PRICE, D("70.00"), bolts_po),
        ("received", breaker, D(SETS), BREAKER_PRICE, D("7500.00"), breakers_po),
    ]
    unwound = result["unwound"]
    # The breakers PO is fully delivered: closed, not cancelled; the bolts PO still owes 88.
    assert (unwound["requisitions"], unwound["purchase_orders"]) == ([], [bolts_po])
    assert unwound["work_orders"] == [*work_orders, f"PWO-{order_no}"]
    assert {k: D(v) for k, v in unwound["reservations"].items()} == {breaker: SETS}
    # The freed breakers go at once to the other order, which is short of them.
    assert {o: {i: D(q) for i, q in items.items()} for o, items in result["allocated"].items()} == {
        other: {breaker: D(SETS)}
    }

    await _assert_nothing_open(flow, engine, order_no)
    pos = await _get(flow, "/procurement/purchase-orders", order_no=order_no)
    assert {po["po_no"]: po["state"] for po in pos} == {
        bolts_po: "cancelled",
        breakers_po: "closed",
    }
    [shelf] = await _get(flow, "/warehouse/stock", item=breaker)
    assert {k: D(v) for k, v in shelf["reserved"].items()} == {other: SETS}
    assert D(shelf["free"]) == 0
    # The pending lot carries on for stock: still at quality, under no order.
    [waiting] = [
        t
        for t in await _get(
            flow, "/quality/tasks", state="open", kind="quality.incoming_inspection"
        )
        if t["task_id"] == pending["task_id"]
    ]
    assert waiting["order_no"] == "", waiting
    # Its escalation stays open (quality still owes the inspection); the rest are resolved.
    listed = await _escalations_resolved(flow, order_no, result, still_open={late["id"]})

    # Its clock runs on for stock: the division hears at 16 h, under no order.
    second_level = datetime.fromisoformat(pending["created_at"]) + timedelta(hours=16) + MARGIN
    await advance_to(ts_env, second_level)
    division = await _wait_stock_escalation(flow, pending["task_id"], level=2)
    assert division["order_no"] == ""
    assert sorted(e["id"] for e in await escalations(flow, order_no)) == sorted(
        e["id"] for e in listed
    )

    # Quality passes the lot: its bolts go into free stock (nobody needs them any more).
    done = await flow.http.post(
        f"/quality/tasks/{pending['task_id']}/complete",
        json={"lines": [{"item": bolt, "qualified_qty": 200, "rejected_qty": 0}]},
        headers=flow.token("qa-li", "quality"),
    )
    assert done.status_code == 200, done.text
    [shelf] = await _get(flow, "/warehouse/stock", item=bolt)
    assert (D(shelf["on_hand"]), D(shelf["pending_inspection"]), D(shelf["free"])) == (200, 0, 200)
    assert shelf["reserved"] == {}
    inspection = flow.client.get_workflow_handle(f"inspection-{bolts['lot_no']}")
    assert await asyncio.wait_for(inspection.result(), timeout=15) == "closed"

    await _timers_stopped(flow, ts_env, order_no, _far_past(view))
    await _refused_again(flow, order_no)


async def test_a_delivery_received_a_moment_before_the_cancellation_goes_to_stock(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    """The warehouse books a delivery and sales cancels at once, before the lot's inspection
    has reached quality's tables: its task still ends up under no order, and its goods in
    free stock."""
    suffix = uuid.uuid4().hex[:6]
    bolt = f"BOLT-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    bolts_po, _ = await _place_priced_pos(flow, order_no, suffix)
    lot = await receive_ok(
        flow, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": 200, "qty_counted": 200}]
    )
    result = await _cancel_ok(flow, order_no)
    assert D(result["cost"]["received_material"]) == D("70.00")

    task = await _lot_task(flow, lot["lot_no"], lambda t: t["order_no"] == "")
    await _assert_nothing_open(flow, engine, order_no)
    # The lot's inspection runs on, its clock escalating under no order.
    await _timers_stopped(flow, ts_env, order_no, _far_past(view), f"inspection-{lot['lot_no']}")
    done = await flow.http.post(
        f"/quality/tasks/{task['task_id']}/complete",
        json={"lines": [{"item": bolt, "qualified_qty": 200, "rejected_qty": 0}]},
        headers=flow.token("qa-li", "quality"),
    )
    assert done.status_code == 200, done.text
    [shelf] = await _get(flow, "/warehouse/stock", item=bolt)
    assert (D(shelf["on_hand"]), D(shelf["free"]), shelf["reserved"]) == (200, 200, {})


async def _lot_task(
    stack: Stack, lot_no: str, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The open inspection task of a lot, once `ready` holds for it."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        tasks = await _get(
            stack, "/quality/tasks", state="open", kind="quality.incoming_inspection"
        )
        found = [t for t in tasks if t["context"].get("lot_no") == lot_no]
        if found and ready(found[0]):
            return found[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the inspection task of {lot_no}: {found}")
        await asyncio.sleep(0.1)


async def _wait_stock_escalation(stack: Stack, task_id: str, *, level: int) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        found = [
            e
            for e in await _get(stack, "/escalations", role="division")
            if e["task_id"] == task_id and e["level"] == level
        ]
        if found:
            return found[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no level-{level} escalation of {task_id}")
        await asyncio.sleep(0.1)
