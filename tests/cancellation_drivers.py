"""Drivers shared by the end-to-end cancellation tests: cancelling over HTTP, reading the
order's work back, and checking that nothing of a cancelled order is left open."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from services.production.models import ProductionOrder
from shared.db import session_scope
from tests.conftest import Stack
from tests.drivers import (
    inbox,
    open_tasks_everywhere,
)
from tests.helpers import (
    advance_to,
    complete_ok,
    escalations,
    settled,
)
from tests.material_drivers import (
    milestones,
    order_view,
    place_orders,
)
from tests.plant_calendar import plant_calendar

D = Decimal
OPS = ("ops-bot", "ops")
BOLT_PRICE, BREAKER_PRICE = D("0.35"), D("1250")
BOLTS = 288  # 48 per frame, one frame per set
# How a cancellation acknowledges the escalations it resolves.
CANCELLED_BY = "orderflow: order cancelled"
ENDED_WORK_ORDER = ("cancelled", "closed", "done")


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
    return await place_orders(
        stack,
        order_no,
        suffix,
        breaker_promised=required - timedelta(days=2),
        prices=(BOLT_PRICE, BREAKER_PRICE),
    )


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


# A cancellation fee agreed with the customer (sales.cancellation_settlement).
FEE_AGREED = {"settlement": "fee", "amount": 15000, "reference": "customer letter 2026-117"}


async def _settle(stack: Stack, order_no: str) -> dict[str, Any]:
    """Sales records the fee agreed with the customer; the order is then `cancelled`."""
    return await complete_ok(stack, "sales.cancellation_settlement", order_no, FEE_AGREED)


async def _assert_nothing_open(stack: Stack, engine: AsyncEngine, order_no: str) -> None:
    """Once sales has recorded the cancellation's settlement (if it is still open), nothing
    of the order is left open anywhere, and the order says it is cancelled."""
    if await inbox(stack, "sales.cancellation_settlement", order_no, "open"):
        await _settle(stack, order_no)
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
    stack: Stack,
    ts_env: WorkflowEnvironment,
    order_no: str,
    until: datetime,
    *also: str,
) -> None:
    """Time runs to `until` (past every due date of the order): no escalation of the order
    comes, because none of its clocks runs any more. Checked once the order's workflow, its
    children and the workflows `also` named (which outlive it) have settled."""
    before = sorted(e["id"] for e in await escalations(stack, order_no))
    await advance_to(ts_env, until)
    await settled(stack, f"order-{order_no}", *also)
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
    """The plant's working day `days` working days after `start` (default calendar: Shanghai,
    China's public holidays): what labour is counted in."""
    return plant_calendar().add_working_days(start, days)
