"""The daily MRP run (P4.2, §4.3) on the time-skipping stack: free stock given to open orders,
shortages nothing covers requisitioned and the orders told."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import EventType

from services.procurement.models import PoLine, PurchaseOrder
from tests.conftest import Stack
from tests.daily_mrp_drivers import (  # the stacks: a plant working every day
    _daily,
    _get,
    _on_hand,
    _requisitions,
    every_day_flow,  # noqa: F401
    every_day_stack,  # noqa: F401
)
from tests.drivers import to_master_plan
from tests.helpers import complete_ok, create_order

D = Decimal


async def _signals(stack: Stack, workflow_id: str, name: str) -> list[Any]:
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.workflow_execution_signaled_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and event.workflow_execution_signaled_event_attributes.signal_name == name
    ]


# -- open orders (P4.2) ------------------------------------------------------------------------


def _bom(suffix: str) -> list[dict[str, Any]]:
    return [
        {"item": "KYN28-12", "qty_per": 1, "make_or_buy": "make"},
        {
            "item": f"VS1-{suffix}",
            "parent": "KYN28-12",
            "qty_per": 1,
            "make_or_buy": "buy",
            "supplier": "Chint",
            "lead_days": 30,
            "special": True,
        },
        {
            "item": f"BOLT-{suffix}",
            "parent": "KYN28-12",
            "qty_per": 48,
            "make_or_buy": "buy",
            "supplier": "Fastenal",
        },
    ]


async def _stock_po(engine: AsyncEngine, item: str, qty: int) -> None:
    """An open purchase order bought for stock, not for an order."""
    po_no = f"PO-SEED-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            insert(PurchaseOrder).values(
                po_no=po_no,
                supplier="Fastenal",
                order_no=None,
                promised_date=date.today() + timedelta(days=5),
                state="open",
                created_by="seed",
                created_at=datetime.now(UTC),
            )
        )
        await conn.execute(
            insert(PoLine).values(po_no=po_no, line_no=1, item=item, qty=D(qty), qty_received=0)
        )


async def test_daily_run_reserves_free_stock_and_requisitions_only_what_nothing_covers(
    flow: Stack, engine: AsyncEngine
) -> None:
    suffix = uuid.uuid4().hex[:6]
    bolt, breaker = f"BOLT-{suffix}", f"VS1-{suffix}"
    await _stock_po(engine, bolt, 40)  # MRP counts it: the order's requisition is 288 - 40
    order_no = await create_order(flow)  # six sets
    await to_master_plan(flow, order_no)
    await complete_ok(flow, "planning.master_plan", order_no, {"accept_proposal": True})
    await complete_ok(flow, "engineering.release_bom", order_no, {"lines": _bom(suffix)})
    by_item = {r.item: r for r in await _requisitions(engine, bolt)}
    assert by_item[bolt].qty == 248
    # The division refuses the special breaker: the order is short of it with nothing coming.
    await complete_ok(
        flow,
        "procurement.special_approval",
        order_no,
        {"approved": False, "comment": "wrong rating"},
        roles=("division",),
    )
    await _on_hand(engine, bolt, 100)  # found in another store

    result = await _daily(flow)
    realloc = result.reallocation
    assert realloc.reserved == {order_no: {bolt: D(100)}}
    # 188 bolts still short, 248 requisitioned + 40 on the stock PO: nothing new to buy.
    (bought,) = realloc.requisitions[order_no]
    assert (bought.item, bought.qty, bought.reason) == (breaker, D(6), "order")
    assert bought.special is True and bought.supplier == "Chint"
    assert len(await _requisitions(engine, bolt)) == 1
    rows = {r.state: r for r in await _requisitions(engine, breaker)}
    assert set(rows) == {"rejected", "open"}
    assert rows["open"].order_no == order_no and rows["open"].bom_revision == 1
    assert result.notified == [order_no]

    notices = await _signals(flow, f"order-{order_no}", "material_notice")
    assert len(notices) == 2
    (stock,) = await _get(flow, "/warehouse/stock", item=bolt)
    assert D(stock["reserved"][order_no]) == 100 and D(stock["free"]) == 0
    view = await _get(flow, f"/orders/{order_no}")
    (event,) = [e for e in view["timeline"] if e["actor"] == "mrp-daily"]
    assert event["kind"] == "mrp" and f"requisition for 6 {breaker}" in event["summary"]

    # The same day again: everything is covered now, nothing is reserved or bought twice.
    again = await _daily(flow)
    assert (again.reallocation.reserved, again.reallocation.requisitions) == ({}, {})
    assert len(await _requisitions(engine, breaker)) == 2

    # An order whose workflow has ended does not fail the run.
    await flow.client.get_workflow_handle(f"order-{order_no}").terminate("test: order gone")
    await _on_hand(engine, bolt, 10)
    gone = await _daily(flow)
    assert gone.reallocation.reserved == {order_no: {bolt: D(10)}}
    assert (gone.unreachable, gone.notified) == ([order_no], [])
