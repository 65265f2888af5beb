"""Cancelling an order ("At any time"), the database side: `unwind_order` on the real database
with hand-made rows (requisitions, POs with prices, work orders, reservations, picks, a
production start): what is cancelled, what it cost, and PO prices. Once-only and the
refusals of `POST /sales/orders/{order_no}/cancel`: test_cancellation_unwind_guards.py.

The order workflow's `cancel` update (withdrawing tasks, stopping timers) is tested end to end
with the workflow.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import ActivityEnvironment

from services.procurement.activities import ProcurementActivities
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requirement,
    Requisition,
    WorkOrder,
)
from services.production.models import ProductionOrder
from services.warehouse.models import Movement, Reservation
from services.warehouse.stock import free_qty
from shared import payloads as p
from shared.db import session_scope
from shared.settings import Settings
from shared.types import PlacePoInput
from tests.unwind_drivers import (
    NOW,
    D,
    _entries,
    _order,
    _requisition,
    _scene,
    _sfx,
    _unwind,
)

# -- what is cancelled --------------------------------------------------------------------------


async def test_open_and_approved_requisitions_are_cancelled_ordered_and_rejected_kept(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    result = await _unwind(engine, base_settings, scene.order)
    assert result.unwound.requisitions == sorted([scene.req_open, scene.req_approved])
    async with session_scope(engine) as session:
        states = dict(
            (
                await session.execute(
                    select(col(Requisition.key), col(Requisition.state)).where(
                        col(Requisition.item) == scene.x
                    )
                )
            ).all()
        )
    assert states == {
        scene.req_open: "cancelled",
        scene.req_approved: "cancelled",
        scene.req_ordered: "ordered",
        scene.req_rejected: "rejected",
        f"RQX-{scene.order.removeprefix('CX-')}": "open",  # the other order's
    }


async def test_open_po_and_work_orders_are_cancelled_and_others_untouched(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    result = await _unwind(engine, base_settings, scene.order)
    assert result.unwound.purchase_orders == [scene.po_open]
    assert result.unwound.work_orders == [scene.wo_open, scene.pwo]
    assert result.stage_at_cancel == "production"
    async with session_scope(engine) as session:
        po_states = {
            po: (await session.get(PurchaseOrder, po)).state  # type: ignore[union-attr]
            for po in (scene.po_open, scene.po_closed, scene.po_other, scene.po_stock)
        }
        received = (await session.get(PoLine, (scene.po_open, 1))).qty_received  # type: ignore[union-attr]
        wo_states = {
            key: (await session.get(WorkOrder, key)).state  # type: ignore[union-attr]
            for key in (scene.wo_open, scene.wo_closed)
        }
        pwo = await session.get(ProductionOrder, scene.pwo)
    assert po_states == {
        scene.po_open: "cancelled",
        scene.po_closed: "closed",
        scene.po_other: "open",
        scene.po_stock: "open",
    }
    assert received == 4  # what came in stays received
    assert wo_states == {scene.wo_open: "cancelled", scene.wo_closed: "closed"}
    assert pwo is not None and pwo.state == "cancelled"


async def test_shelf_reservations_go_to_the_short_order_and_picked_stays(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    result = await _unwind(engine, base_settings, scene.order)
    assert result.unwound.reservations == {scene.x: 3, scene.s: 4, scene.w: 2}
    # 8 of S on the shelf (10 less 2 picked), all free now: the other order gets the 5 it
    # needs; W's 2 go to it too; nobody needs X.
    assert result.allocated == {scene.other: {scene.s: D(5), scene.w: D(2)}}
    async with session_scope(engine) as session:
        held = {
            (row.order_no, row.item): (D(row.qty), D(row.picked))
            for row in (
                await session.execute(
                    select(Reservation).where(
                        col(Reservation.order_no).in_((scene.order, scene.other))
                    )
                )
            ).scalars()
        }
        unreserved = dict(
            (
                await session.execute(
                    select(col(Movement.item), col(Movement.qty)).where(
                        col(Movement.kind) == "unreserved",
                        col(Movement.order_no) == scene.order,
                        col(Movement.ref) == f"cancel {scene.order}",
                    )
                )
            ).all()
        )
        free_x = await free_qty(session, scene.x)
    assert held == {
        (scene.order, scene.x): (1, 1),
        (scene.order, scene.s): (2, 2),
        (scene.order, scene.f): (1, 1),
        (scene.other, scene.s): (5, 0),
        (scene.other, scene.w): (2, 0),
    }
    assert unreserved == {scene.x: 3, scene.s: 4, scene.w: 2}
    assert free_x == 3


async def test_requirements_of_the_order_are_removed(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    await _unwind(engine, base_settings, scene.order)
    async with session_scope(engine) as session:
        left = (
            await session.execute(
                select(col(Requirement.order_no), col(Requirement.item)).where(
                    col(Requirement.order_no).in_((scene.order, scene.other))
                )
            )
        ).all()
    assert sorted(left) == sorted([(scene.other, scene.s), (scene.other, scene.w)])


# -- what it cost --------------------------------------------------------------------------------


async def test_cost_counts_received_material_work_done_and_open_commitments(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    cost = (await _unwind(engine, base_settings, scene.order)).cost
    assert cost.currency == "EUR"
    # Received: 4 X at 5.50 on the cancelled PO, 2 Z at 7 on the closed one.
    assert cost.received_material == D("36.00")
    # Still to come on the cancelled PO: 6 X at 5.50 (and 3 Y without a price).
    assert cost.open_commitments == D("33.00")
    # Picked from stock: 2 S at the stock PO's 10; 7 production days at 800.
    assert cost.work_done == D("5620.00")
    assert cost.total == D("5689.00")
    assert sum(D(e["amount"]) for e in cost.detail) == cost.total


async def test_picked_material_counts_as_work_done_at_its_lots_po_price(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    result = await _unwind(engine, base_settings, scene.order)
    [stock] = _entries(result, "picked", scene.s)
    assert stock | {"note": None} == {
        "kind": "picked",
        "counted_in": "work_done",
        "item": scene.s,
        "qty": "2",
        "unit_price": "10",
        "amount": "20.00",
        "po_no": scene.po_stock,
        "unpriced": False,
        "note": None,
    }
    # Picked from what the order's own PO brought in: listed, counted once (as received).
    [own] = _entries(result, "picked", scene.x)
    assert (own["counted_in"], own["amount"], own["po_no"]) == (
        "received_material",
        "0.00",
        scene.po_open,
    )
    [labour] = _entries(result, "labour", None)
    assert (labour["qty"], labour["unit_price"], labour["amount"]) == ("7", "800", "5600.00")


async def test_unpriced_lines_count_zero_and_are_flagged(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    result = await _unwind(engine, base_settings, scene.order, labour=D(0))
    unpriced = {(e["kind"], e["item"]) for e in result.cost.detail if e["unpriced"]}
    # Y has no price on its PO, F came from opening stock, and labour has no rate set.
    assert unpriced == {("open_commitment", scene.y), ("picked", scene.f), ("labour", None)}
    assert all(D(e["amount"]) == 0 for e in result.cost.detail if e["unpriced"])
    assert result.cost.work_done == D("20.00")
    [y] = _entries(result, "open_commitment", scene.y)
    assert (y["qty"], y["unit_price"]) == ("3", None)


async def test_no_labour_before_production_starts(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine, production_started=False)
    result = await _unwind(engine, base_settings, scene.order)
    assert _entries(result, "labour", None) == []
    assert result.cost.work_done == D("20.00")


# -- PO prices -----------------------------------------------------------------------------------


async def test_place_po_keeps_the_unit_price(engine: AsyncEngine, base_settings: Settings) -> None:
    order_no, key = f"CX-{_sfx()}", f"RQ-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, order_no)
        session.add(_requisition(order_no, key, f"I-{_sfx()}", "approved"))
    placed = await ActivityEnvironment().run(
        ProcurementActivities(engine, base_settings).place_po,
        PlacePoInput(
            order_no=order_no,
            requisition_key=key,
            supplier="Chint",
            promised_date=date(2026, 12, 1),
            by="buyer",
            at=NOW,
            unit_price=p.PlacePo.parse(
                {"supplier": "Chint", "promised_date": "2026-12-01", "unit_price": 12.5}
            ).unit_price,
        ),
    )
    async with session_scope(engine) as session:
        line = (
            await session.execute(select(PoLine).where(col(PoLine.requisition_key) == key))
        ).scalar_one()
    assert (line.po_no, line.unit_price) == (placed.po_no, D("12.5"))


def test_place_po_payload_price_is_optional_and_not_negative() -> None:
    base = {"supplier": "Chint", "promised_date": "2026-12-01"}
    assert p.PlacePo.parse(base).unit_price is None
    assert p.PlacePo.parse({**base, "unit_price": 7}).unit_price == 7
    with pytest.raises(ValidationError):
        p.PlacePo.parse({**base, "unit_price": -1})
