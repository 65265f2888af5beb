"""Allocation of free stock to the orders short of it (P6.3), on the real database: earliest
required date first, never more than an order still needs, never more than is free."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from services.procurement.models import Requirement
from services.sales.models import Order
from services.warehouse.stock import add_lot, allocate, free_qty, reserve
from shared.db import session_scope

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def _order(
    engine: AsyncEngine, item: str, need: int, required: date, status: str = "active"
) -> str:
    order_no = f"AL-{uuid.uuid4().hex[:8]}"
    async with session_scope(engine) as session:
        session.add(
            Order(
                order_no=order_no,
                workflow_id=f"order-{order_no}",
                customer="Test",
                project_name="allocation",
                contract_no="C-1",
                drawing_refs=[],
                requested_date=required + timedelta(days=30),
                amount=Decimal(1),
                currency="CNY",
                status=status,
                created_by="test",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.flush()
        session.add(
            Requirement(
                order_no=order_no,
                item=item,
                bom_revision=1,
                qty=Decimal(need),
                make_or_buy="buy",
                required_date=required,
                updated_at=NOW,
            )
        )
    return order_no


async def test_free_stock_goes_to_the_earliest_required_order_first(engine: AsyncEngine) -> None:
    item = f"CB-{uuid.uuid4().hex[:6]}"
    today = date(2026, 12, 1)
    late = await _order(engine, item, 10, today + timedelta(days=20))
    early = await _order(engine, item, 6, today + timedelta(days=5))
    middle = await _order(engine, item, 4, today + timedelta(days=10))
    closed = await _order(engine, item, 50, today, status="cancelled")
    async with session_scope(engine) as session:
        await reserve(session, order_no=middle, item=item, qty=Decimal(1), by="t", at=NOW)
        await add_lot(session, lot_no="IL-T1", item=item, qty=Decimal(13), source="receipt", at=NOW)
        given = await allocate(session, [item], by="qa", at=NOW, ref="IL-T1")
    # 13 on hand, 1 already held by `middle`: 12 free. Early needs 6, middle 3 more, late gets 3.
    assert given == {
        early: {item: Decimal(6)},
        middle: {item: Decimal(3)},
        late: {item: Decimal(3)},
    }
    assert closed not in given
    async with session_scope(engine) as session:
        assert await free_qty(session, item) == 0
        again = await allocate(session, [item], by="qa", at=NOW)
    assert again == {}


async def test_allocation_for_one_order_leaves_the_others_alone(engine: AsyncEngine) -> None:
    item = f"CB-{uuid.uuid4().hex[:6]}"
    first = await _order(engine, item, 5, date(2026, 12, 1))
    second = await _order(engine, item, 5, date(2026, 12, 20))
    async with session_scope(engine) as session:
        await add_lot(session, lot_no="IL-T2", item=item, qty=Decimal(4), source="receipt", at=NOW)
        given = await allocate(session, [item], by="planner", at=NOW, only_order=second)
    assert given == {second: {item: Decimal(4)}} and first not in given
