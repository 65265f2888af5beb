"""Cancelling an order at any stage ("At any time", issue 4 item 7), end to end on the
time-skipping server: during review, after its purchase orders are placed, after a receipt whose
inspection is still pending, and in production with a design change under way.

Each cancellation answers 200 with the cost so far and what it unwound, and leaves nothing of
the order open anywhere: no task in any inbox, no requisition, purchase order or work order, no
reservation, no clock (time runs far past every due date and no escalation of the order comes),
and the escalations it had are closed as resolved by the cancellation. Goods still waiting for
quality carry on for stock. A second cancel, or one of an order that has ended, is a 409.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from services.production.models import ProductionOrder
from services.sales.cancellation import CancellationActivities
from services.sales.models import Order
from shared.db import session_scope
from shared.escalations.models import Escalation
from shared.settings import Settings
from shared.tasks.models import inbox
from shared.types import CancellationResult, UnwindOrder
from tests.conftest import THRESHOLD, Stack, run_stack, settings_for
from tests.drivers import (
    open_tasks_everywhere,
    propose_and_plan_date,
    technical_and_lead_time,
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
    milestones,
    order_view,
    production_start,
    receive,
    receive_ok,
    to_materials,
    to_production,
    two_level_bom,
)

D = Decimal
OPS = ("ops-bot", "ops")
BOLT_PRICE, BREAKER_PRICE = D("0.35"), D("1250")
BOLTS = 288  # 48 per frame, one frame per set
# How a cancellation acknowledges the escalations it resolves.
CANCELLED_BY = "orderflow: order cancelled"
ENDED_WORK_ORDER = ("cancelled", "closed", "done")


# -- drivers -------------------------------------------------------------------------------------


async def _cancel(
    stack: Stack, order_no: str, reason: str = "the utility withdrew the project"
) -> httpx.Response:
    return await stack.http.post(
        f"/sales/orders/{order_no}/cancel",
        json={"reason": reason},
        headers=stack.token("sam", "sales"),
    )


async def _cancel_ok(stack: Stack, order_no: str) -> dict[str, Any]:
    response = await _cancel(stack, order_no)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _get(stack: Stack, path: str, **params: str) -> list[dict[str, Any]]:
    response = await stack.http.get(path, params=params, headers=stack.token(*OPS))
    assert response.status_code == 200, response.text
    return list(response.json())


async def _place_priced_pos(stack: Stack, order_no: str, suffix: str) -> tuple[str, str]:
    """The bolts PO at 0.35 and, once the division approves the special breaker, the breakers
    PO at 1250, both promised before the material is required. Returns (bolts, breakers)."""
    required = milestones(await order_view(stack, order_no))["material_required"]
    bolts_po, breakers_po = f"PO-B-{suffix}", f"PO-V-{suffix}"
    await complete_ok(
        stack,
        "procurement.place_po",
        order_no,
        {
            "supplier": "Fastenal",
            "promised_date": (required - timedelta(days=5)).isoformat(),
            "po_no": bolts_po,
            "unit_price": float(BOLT_PRICE),
        },
    )
    await complete_ok(
        stack,
        "procurement.special_approval",
        order_no,
        {"approved": True, "comment": "single source"},
        roles=("division",),
    )
    await complete_ok(
        stack,
        "procurement.place_po",
        order_no,
        {
            "supplier": "Chint",
            "promised_date": (required - timedelta(days=2)).isoformat(),
            "po_no": breakers_po,
            "unit_price": float(BREAKER_PRICE),
        },
    )
    return bolts_po, breakers_po


async def _open_work_orders(stack: Stack, order_no: str) -> list[str]:
    """The order's semi-finished work orders still open (MRP makes the set and its frame)."""
    rows = await _get(stack, "/procurement/work-orders", order_no=order_no)
    return sorted(row["key"] for row in rows if row["state"] not in ENDED_WORK_ORDER)


async def _production_order(engine: AsyncEngine, order_no: str) -> ProductionOrder | None:
    async with session_scope(engine) as session:
        return (
            await session.execute(
                select(ProductionOrder).where(col(ProductionOrder.order_no) == order_no)
            )
        ).scalar_one_or_none()


def _money(cost: dict[str, Any]) -> dict[str, D]:
    return {
        key: D(cost[key]) for key in ("received_material", "work_done", "open_commitments", "total")
    }


def _charges(cost: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The cost's lines as (kind, item, qty, unit price, amount, PO), in a stable order."""
    return sorted(
        (
            e["kind"],
            e["item"] or "",
            D(e["qty"]),
            None if e["unit_price"] is None else D(e["unit_price"]),
            D(e["amount"]),
            e["po_no"] or "",
        )
        for e in cost["detail"]
    )


async def _assert_nothing_open(stack: Stack, engine: AsyncEngine, order_no: str) -> None:
    """Nothing of the order is left open anywhere, and the order says it is cancelled."""
    assert await open_tasks_everywhere(stack, order_no) == []
    view = await order_view(stack, order_no)
    assert (view["stage"], view["status"], view["open_tasks"]) == ("cancelled", "cancelled", [])
    requisitions = await _get(stack, "/procurement/requisitions", order_no=order_no)
    assert [r["key"] for r in requisitions if r["state"] in ("open", "approved")] == []
    assert await _get(stack, "/procurement/purchase-orders", order_no=order_no, state="open") == []
    assert await _open_work_orders(stack, order_no) == []
    production = await _production_order(engine, order_no)
    assert production is None or production.state in ENDED_WORK_ORDER, production
    held = {row["item"]: row["reserved"] for row in await _get(stack, "/warehouse/stock")}
    assert {item: by for item, by in held.items() if order_no in by} == {}
    workflow = stack.client.get_workflow_handle(f"order-{order_no}")
    assert await asyncio.wait_for(workflow.result(), timeout=15) == "cancelled"


async def _refused_again(stack: Stack, order_no: str) -> None:
    again = await _cancel(stack, order_no)
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "order_not_cancellable"


async def _escalations_resolved(
    stack: Stack,
    order_no: str,
    result: dict[str, Any],
    *,
    still_open: AbstractSet[int] = frozenset(),
) -> list[dict[str, Any]]:
    """Every escalation of the order the cancellation found open is acknowledged by it (but
    those about work that carries on without the order); returns the order's escalations."""
    listed = await escalations(stack, order_no)
    acked = {e["id"] for e in listed if e["acked_by"] == CANCELLED_BY}
    assert sorted(result["escalations_closed"]) == sorted(acked)
    for e in listed:
        if e["id"] in still_open:
            assert e["state"] == "open", e
        else:
            assert e["state"] == "acked" and e["acked_by"] == CANCELLED_BY, e
    return listed


async def _timers_stopped(
    stack: Stack, ts_env: WorkflowEnvironment, order_no: str, until: datetime
) -> None:
    """Time runs to `until` (past every due date of the order): no escalation of the order
    comes, because none of its clocks runs any more."""
    before = sorted(e["id"] for e in await escalations(stack, order_no))
    await advance_to(ts_env, until)
    await asyncio.sleep(0.5)  # anything a fired timer started has landed
    after = sorted(e["id"] for e in await escalations(stack, order_no))
    assert after == before, await escalations(stack, order_no)


def _far_past(view: dict[str, Any]) -> datetime:
    """A month after the last planned date of the order (or after today)."""
    dates = [*milestones(view).values(), date.today()]
    if view["due_date"]:
        dates.append(date.fromisoformat(view["due_date"]))
    return datetime.combine(max(dates) + timedelta(days=30), time(), tzinfo=UTC)


def _about(task_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda escalation: bool(escalation["task_id"] == task_id)


def _working_days_later(start: date, days: int) -> date:
    day = start
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


# -- (1) during review ---------------------------------------------------------------------------


async def test_cancel_during_review_withdraws_its_tasks_and_resolves_its_escalations(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    order_no = await create_order(flow)
    reviews = {
        (await wait_task(flow, kind, order_no))["task_id"]
        for kind in ("engineering.contract_review", "procurement.lead_time_review")
    }
    # A day on, both reviews are overdue: their heads are escalated to.
    await advance_to(ts_env, await ts_env.get_current_time() + timedelta(days=1) + MARGIN)
    for task_id in reviews:
        await wait_escalation(flow, order_no, _about(task_id))

    # Two cancels at once: one cancels, the other is refused.
    first, second = await asyncio.gather(_cancel(flow, order_no), _cancel(flow, order_no))
    assert sorted((first.status_code, second.status_code)) == [200, 409], (first, second)
    result = (first if first.status_code == 200 else second).json()
    refused = (second if first.status_code == 200 else first).json()
    assert refused["error"] == "order_not_cancellable"

    assert (result["order_no"], result["stage_at_cancel"]) == (order_no, "review")
    assert result["reason"] == "the utility withdrew the project"
    assert result["cost"]["currency"] == "CNY"
    assert _money(result["cost"]) == dict.fromkeys(
        ("received_material", "work_done", "open_commitments", "total"), D(0)
    )
    assert result["cost"]["detail"] == []
    assert set(result["unwound"]["tasks"]) == reviews
    assert {k: v for k, v in result["unwound"].items() if k != "tasks"} == {
        "requisitions": [],
        "purchase_orders": [],
        "work_orders": [],
        "reservations": {},
    }
    assert result["allocated"] == {}

    await _assert_nothing_open(flow, engine, order_no)
    for task in await _get(flow, "/engineering/tasks", order_no=order_no) + await _get(
        flow, "/procurement/tasks", order_no=order_no
    ):
        assert task["state"] == "withdrawn", task
    listed = await _escalations_resolved(flow, order_no, result)
    assert {e["task_id"] for e in listed} == reviews and len(listed) == 2
    view = await order_view(flow, order_no)
    assert view["status_reason"] == "the utility withdrew the project"
    [event] = [e for e in view["timeline"] if e["kind"] == "cancelled"]
    assert event["actor"] == "sam" and "stage review" in event["summary"]

    # The level-2 clocks (two days) and beyond pass: nothing more is raised.
    await _timers_stopped(
        flow, ts_env, order_no, await ts_env.get_current_time() + timedelta(days=10)
    )
    await _refused_again(flow, order_no)


async def test_a_declined_order_cannot_be_cancelled(flow: Stack) -> None:
    order_no = await create_order(flow)
    await technical_and_lead_time(flow, order_no)
    await propose_and_plan_date(flow, order_no)
    view = await complete_ok(
        flow,
        "sales.confirm_delivery",
        order_no,
        {"accepted": False, "decline": True, "reason": "project postponed"},
    )
    assert view["status"] == "declined"
    refused = await _cancel(flow, order_no)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "order_not_cancellable"
    assert "declined" in refused.json()["detail"]
    assert (await order_view(flow, order_no))["status"] == "declined"


# -- (2) after its purchase orders are placed ----------------------------------------------------


async def test_cancel_after_po_placement_cancels_the_pos_and_counts_the_open_commitments(
    flow: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    order_no, view = await to_materials(flow, suffix)
    bolts_po, breakers_po = await _place_priced_pos(flow, order_no, suffix)
    placed = await _get(flow, "/procurement/purchase-orders", order_no=order_no, state="open")
    assert sorted(po["po_no"] for po in placed) == [bolts_po, breakers_po]
    work_orders = await _open_work_orders(flow, order_no)
    assert len(work_orders) == 2  # the set and its frame, made in house
    open_before = {t["task_id"] for t in await open_tasks_everywhere(flow, order_no)}

    result = await _cancel_ok(flow, order_no)

    assert result["stage_at_cancel"] == "materials"
    cost = result["cost"]
    # Nothing has come in; all of both POs is still owed: 288 x 0.35 + 6 x 1250.
    assert _money(cost) == {
        "received_material": D("0.00"),
        "work_done": D("0.00"),
        "open_commitments": D("7600.80"),
        "total": D("7600.80"),
    }
    assert _charges(cost) == [
        ("open_commitment", bolt, D(BOLTS), BOLT_PRICE, D("100.80"), bolts_po),
        ("open_commitment", breaker, D(SETS), BREAKER_PRICE, D("7500.00"), breakers_po),
    ]
    assert result["unwound"] == {
        "requisitions": [],  # both became purchase orders
        "purchase_orders": [bolts_po, breakers_po],
        "work_orders": work_orders,
        "reservations": {},
        "tasks": result["unwound"]["tasks"],
    }
    assert set(result["unwound"]["tasks"]) == open_before

    await _assert_nothing_open(flow, engine, order_no)
    pos = await _get(flow, "/procurement/purchase-orders", order_no=order_no)
    assert {po["po_no"]: po["state"] for po in pos} == {
        bolts_po: "cancelled",
        breakers_po: "cancelled",
    }
    states = {
        w["key"]: w["state"]
        for w in await _get(flow, "/procurement/work-orders", order_no=order_no)
    }
    assert states == dict.fromkeys(work_orders, "cancelled")
    # The supplier's delivery on a cancelled PO is refused at the door.
    late = await receive(
        flow, bolts_po, "Fastenal", [{"item": bolt, "qty_noted": BOLTS, "qty_counted": BOLTS}]
    )
    assert late.status_code == 409 and late.json()["error"] == "po_not_open", late.text

    await _escalations_resolved(flow, order_no, result)
    await _timers_stopped(flow, ts_env, order_no, _far_past(view))
    await _refused_again(flow, order_no)


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
    assert unwound["work_orders"] == work_orders
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
    await _timers_stopped(flow, ts_env, order_no, _far_past(view))
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
        found = [t for t in tasks if t["context"]["lot_no"] == lot_no]
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


# -- (4) in production, a design change under way -----------------------------------------------


LABOUR_PER_DAY = D("850")


@pytest.fixture
async def costed(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The `flow` stack, with production labour priced at 850 a day."""
    settings = settings_for(
        base_settings, approval_threshold=THRESHOLD, labour_cost_per_day=LABOUR_PER_DAY
    )
    async with run_stack(settings, ts_env.client) as stack:
        yield stack


async def test_cancel_in_production_cancels_the_work_orders_the_design_change_and_prices_labour(
    costed: Stack, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    flow = costed
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker, frame = f"BOLT-{suffix}", f"VS1-{suffix}", f"FRAME-{suffix}"
    order_no, view = await to_production(flow, ts_env, suffix)
    start = production_start(view)
    await advance_to(ts_env, start + MARGIN)
    assembly = await wait_task(flow, "production.assembly", order_no)
    production = await _production_order(engine, order_no)
    assert production is not None and production.state == "in_progress"

    # A design problem in assembly: confirmed, so engineering owes a DCN within 4 hours.
    reported = await flow.http.post(
        f"/production/orders/{order_no}/issues",
        json={
            "kind": "design_problem",
            "description": "frame fouls the breaker truck",
            "items": [{"item": frame, "qty": SETS}],
            "severity": "normal",
        },
        headers=flow.token("zhou", "production"),
    )
    assert reported.status_code == 201, reported.text
    issue_no = reported.json()["issue_no"]
    await complete_ok(flow, "production.confirm_issue", order_no, {"confirmed": True})
    dcn = await wait_task(flow, "engineering.design_change", order_no)

    # Three working days into production the DCN is long overdue (engineering, planner,
    # division were told).
    cancel_day = _working_days_later(start.date(), 3)
    await advance_to(ts_env, datetime.combine(cancel_day, time(10), tzinfo=UTC))
    await wait_escalation(
        flow, order_no, lambda e: e["task_id"] == dcn["task_id"] and e["level"] == 2
    )
    before = await escalations(flow, order_no)
    assert {e["kind"] for e in before} >= {"task_overdue", "design_change_overdue"}
    open_before = {t["task_id"] for t in await open_tasks_everywhere(flow, order_no)}
    assert {assembly["task_id"], dcn["task_id"]} <= open_before
    work_orders = await _open_work_orders(flow, order_no)
    assert len(work_orders) == 2

    result = await _cancel_ok(flow, order_no)

    assert result["stage_at_cancel"] == "production"
    cost = result["cost"]
    # Three working days of production at 850; the material came on unpriced POs (listed,
    # flagged, counted at nothing); all of it was delivered, so nothing is still owed.
    assert _money(cost) == {
        "received_material": D("0.00"),
        "work_done": D("2550.00"),
        "open_commitments": D("0.00"),
        "total": D("2550.00"),
    }
    assert _charges(cost) == [
        ("labour", "", D(3), LABOUR_PER_DAY, D("2550.00"), ""),
        ("picked", bolt, D(BOLTS), None, D(0), f"PO-B-{suffix}"),
        ("picked", breaker, D(SETS), None, D(0), f"PO-V-{suffix}"),
        ("received", bolt, D(BOLTS), None, D(0), f"PO-B-{suffix}"),
        ("received", breaker, D(SETS), None, D(0), f"PO-V-{suffix}"),
    ]
    assert {e["kind"] for e in cost["detail"] if e["unpriced"]} == {"received", "picked"}
    unwound = result["unwound"]
    # The semi-finished work orders, then the production work order.
    assert unwound["work_orders"] == [*work_orders, production.wo_no]
    assert (unwound["requisitions"], unwound["purchase_orders"]) == ([], [])
    # Everything was picked: in the workshop, it stays with the order; nothing on the shelf.
    assert unwound["reservations"] == {}
    assert set(unwound["tasks"]) == open_before - {dcn["task_id"]}

    await _assert_nothing_open(flow, engine, order_no)
    production = await _production_order(engine, order_no)
    assert production is not None and production.state == "cancelled"
    # The design change is cancelled with the order, its DCN task withdrawn.
    with pytest.raises(WorkflowFailureError) as ended:
        await asyncio.wait_for(flow.client.get_workflow_handle(f"dcn-{issue_no}").result(), 15)
    assert isinstance(ended.value.cause, CancelledError)
    [dcn_row] = [
        t
        for t in await _get(flow, "/engineering/tasks", order_no=order_no)
        if t["task_id"] == dcn["task_id"]
    ]
    assert dcn_row["state"] == "withdrawn"
    view = await order_view(flow, order_no)
    by_dcn = [
        e
        for e in view["timeline"]
        if e["kind"] == "task_withdrawn" and e["detail"]["task_id"] == dcn["task_id"]
    ]
    assert len(by_dcn) == 1, by_dcn  # withdrawn by the design change itself, as it ended
    # Its assembly issue ends with the order.
    assert [(i["issue_no"], i["state"]) for i in view["issues"]] == [(issue_no, "closed")]

    listed = await _escalations_resolved(flow, order_no, result)
    assert {e["id"] for e in listed} == {e["id"] for e in before}
    await _timers_stopped(flow, ts_env, order_no, _far_past(view))
    await _refused_again(flow, order_no)


# -- what the unwinding closes beside the order's own tables -------------------------------------


async def test_unwind_withdraws_late_inbox_rows_and_resolves_the_orders_escalations(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    """Rows of the order's workflow or its design changes still open when the order unwinds
    (their opening landed after the withdrawal) are withdrawn; its open escalations are
    acknowledged, but one about a task now carried on for stock; nothing of others moves."""
    s = uuid.uuid4().hex[:8]
    order_no, other = f"CX-{s}", f"CX-{s}-other"
    at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    rows = {
        # (inbox, task id, order, workflow)
        "late": ("sales", f"order-{order_no}-t9", order_no, f"order-{order_no}"),
        "dcn": ("engineering", f"dcn-{order_no}-I1-t1", order_no, f"dcn-{order_no}-I1"),
        "lot": ("quality", f"inspection-IL-{s}-t1", "", f"inspection-IL-{s}"),
        "theirs": ("sales", f"order-{other}-t1", other, f"order-{other}"),
    }
    async with session_scope(engine) as session:
        for no in (order_no, other):
            session.add(
                Order(
                    order_no=no,
                    workflow_id=f"order-{no}",
                    customer="Test",
                    project_name="cancellation",
                    contract_no="C-1",
                    drawing_refs=[],
                    requested_date=date(2027, 3, 1),
                    amount=D(100000),
                    currency="CNY",
                    stage="materials",
                    created_by="test",
                    created_at=at - timedelta(days=30),
                    updated_at=at - timedelta(days=30),
                )
            )
        await session.flush()
        for dept, task_id, owner, workflow_id in rows.values():
            await session.execute(
                insert(inbox(dept)).values(
                    task_id=task_id,
                    kind="quality.incoming_inspection",
                    order_no=owner,
                    workflow_id=workflow_id,
                    title=task_id,
                    state="open",
                    context={},
                    created_at=at - timedelta(days=2),
                    due_at=at - timedelta(days=1),
                    escalation_level=1,
                )
            )
        escalated = {
            name: Escalation(
                key=f"{s}:{name}",
                kind="task_overdue",
                level=1,
                order_no=owner,
                task_id=task_id,
                department=dept,
                role=f"head:{dept}",
                due_at=at - timedelta(days=1),
                breached_at=at - timedelta(days=1),
                message=name,
                created_at=at - timedelta(days=1),
            )
            for name, (dept, task_id, owner, _) in rows.items()
        }
        # The lot's escalation was raised while it was still the order's; a milestone's
        # has no task; one was acknowledged by its head already.
        escalated["lot"].order_no = order_no
        escalated["milestone"] = Escalation(
            key=f"{s}:milestone",
            kind="milestone_overdue",
            level=1,
            order_no=order_no,
            department="planning",
            role="head:planning",
            breached_at=at - timedelta(hours=3),
            message="milestone",
            created_at=at - timedelta(hours=3),
        )
        escalated["seen"] = Escalation(
            key=f"{s}:seen",
            kind="milestone_overdue",
            level=1,
            order_no=order_no,
            department="planning",
            role="head:planning",
            breached_at=at - timedelta(hours=5),
            message="seen",
            state="acked",
            acked_by="head-li",
            acked_at=at - timedelta(hours=4),
            created_at=at - timedelta(hours=5),
        )
        session.add_all(escalated.values())

    settings = base_settings.model_copy(update={"labour_cost_per_day": D(0)})
    result: CancellationResult = await ActivityEnvironment().run(
        CancellationActivities(engine, settings).unwind_order,
        UnwindOrder(order_no=order_no, reason="customer withdrew", by="sam", at=at),
    )

    async with session_scope(engine) as session:
        states = {
            name: (
                await session.execute(
                    select(inbox(dept).c.state).where(inbox(dept).c.task_id == task_id)
                )
            ).scalar_one()
            for name, (dept, task_id, _, _) in rows.items()
        }
        stored = (
            await session.execute(select(Escalation).where(col(Escalation.key).startswith(f"{s}:")))
        ).scalars()
        acks = {e.message: (e.id or 0, e.state, e.acked_by, e.acked_at) for e in stored}
    assert states == {"late": "withdrawn", "dcn": "withdrawn", "lot": "open", "theirs": "open"}
    closed = ("acked", CANCELLED_BY, at)
    assert {name: ack[1:] for name, ack in acks.items()} == {
        "late": closed,
        "dcn": closed,
        "milestone": closed,
        "lot": ("open", None, None),  # quality still owes that inspection
        "theirs": ("open", None, None),
        "seen": ("acked", "head-li", at - timedelta(hours=4)),
    }
    assert result.escalations_closed == sorted(acks[n][0] for n in ("late", "dcn", "milestone"))
