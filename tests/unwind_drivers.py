"""Hand-made rows for the database-side cancellation tests: orders, requisitions, POs with
prices, work orders, reservations, picks, and the scene of an order in production."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.testing import ActivityEnvironment

from services.planning.models import Milestone
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requirement,
    Requisition,
    WorkOrder,
)
from services.production.models import ProductionOrder
from services.sales.cancellation import CancellationActivities
from services.sales.models import Order
from services.warehouse.models import Reservation, StockLot
from services.warehouse.stock import add_lot, change_stock, record, reserve
from shared.db import session_scope
from shared.production_types import CancellationResult, UnwindOrder
from shared.settings import Settings

D = Decimal
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
PRODUCTION_START = date(2026, 11, 16)  # the Monday of the week before: 7 working days back
LABOUR_PER_DAY = D(800)


def _sfx() -> str:
    return uuid.uuid4().hex[:8]


async def _order(
    session: AsyncSession,
    order_no: str,
    *,
    stage: str = "production",
    status: str = "active",
    currency: str = "CNY",
) -> None:
    session.add(
        Order(
            order_no=order_no,
            workflow_id=f"order-{order_no}",
            customer="Test",
            project_name="cancellation",
            contract_no="C-1",
            drawing_refs=[],
            requested_date=date(2027, 3, 1),
            amount=D(100000),
            currency=currency,
            stage=stage,
            status=status,
            created_by="test",
            created_at=NOW - timedelta(days=40),
            updated_at=NOW - timedelta(days=40),
        )
    )
    await session.flush()


async def _requirement(session: AsyncSession, order_no: str, item: str, qty: int) -> None:
    session.add(
        Requirement(
            order_no=order_no,
            item=item,
            bom_revision=1,
            qty=D(qty),
            make_or_buy="buy",
            required_date=date(2026, 12, 1),
            updated_at=NOW,
        )
    )


def _requisition(order_no: str | None, key: str, item: str, state: str) -> Requisition:
    return Requisition(
        key=key,
        order_no=order_no,
        bom_revision=1,
        item=item,
        qty=D(1),
        reason="order",
        state=state,
        created_at=NOW,
    )


async def _po(
    session: AsyncSession,
    po_no: str,
    order_no: str | None,
    state: str,
    lines: list[tuple[str, int, int, str | None]],
) -> None:
    """A purchase order with lines (item, qty, qty_received, unit_price)."""
    session.add(
        PurchaseOrder(
            po_no=po_no,
            supplier="Chint",
            order_no=order_no,
            promised_date=date(2026, 12, 1),
            state=state,
            created_by="buyer",
            created_at=NOW - timedelta(days=20),
        )
    )
    await session.flush()
    for n, (item, qty, received, price) in enumerate(lines, start=1):
        session.add(
            PoLine(
                po_no=po_no,
                line_no=n,
                item=item,
                qty=D(qty),
                qty_received=D(received),
                unit_price=None if price is None else D(price),
            )
        )
    await session.flush()


async def _pick(session: AsyncSession, order_no: str, item: str, lot_no: str, qty: int) -> None:
    """What picking books: off the lot and the shelf, onto the order's reservation as picked."""
    await record(
        session,
        kind="picked",
        item=item,
        qty=D(qty),
        by="wh",
        at=NOW - timedelta(days=10),
        lot_no=lot_no,
        order_no=order_no,
    )
    await change_stock(session, item, at=NOW, on_hand=D(-qty))
    lot = await session.get(StockLot, (lot_no, item))
    assert lot is not None
    lot.qty_left = D(lot.qty_left) - qty
    held = await session.get(Reservation, (order_no, item))
    assert held is not None
    held.picked = D(held.picked) + qty


# Everything a cancelled order in production holds, and another order short of its stock.
@dataclass
class Scene:
    order: str
    other: str
    x: str  # bought on the order's open PO: 4 of 10 received at 5.50, 1 picked
    y: str  # on the same PO, no price, nothing received
    z: str  # the order's closed PO: 2 received at 7
    s: str  # bought for stock at 10: the order holds 6, picked 2; the other order needs 5
    f: str  # opening stock without a PO: 1 picked
    w: str  # on the shelf only: the order holds 2, the other order needs 2
    req_open: str
    req_approved: str
    req_ordered: str
    req_rejected: str
    po_open: str
    po_closed: str
    po_other: str
    po_stock: str
    wo_open: str
    wo_closed: str
    pwo: str


async def _scene(engine: AsyncEngine, *, production_started: bool = True) -> Scene:
    s = _sfx()
    scene = Scene(
        order=f"CX-{s}",
        other=f"CX-{s}-other",
        **{k: f"{k.upper()}-{s}" for k in ("x", "y", "z", "s", "f", "w")},
        req_open=f"RQO-{s}",
        req_approved=f"RQA-{s}",
        req_ordered=f"RQD-{s}",
        req_rejected=f"RQR-{s}",
        po_open=f"PO-{s}-1",
        po_closed=f"PO-{s}-2",
        po_other=f"PO-{s}-3",
        po_stock=f"PO-{s}-S",
        wo_open=f"WO-{s}-1",
        wo_closed=f"WO-{s}-2",
        pwo=f"PWO-{s}",
    )
    async with session_scope(engine) as session:
        await _order(session, scene.order, currency="EUR")
        await _order(session, scene.other)
        session.add_all(
            [
                _requisition(scene.order, scene.req_open, scene.x, "open"),
                _requisition(scene.order, scene.req_approved, scene.x, "approved"),
                _requisition(scene.order, scene.req_ordered, scene.x, "ordered"),
                _requisition(scene.order, scene.req_rejected, scene.x, "rejected"),
                _requisition(scene.other, f"RQX-{s}", scene.x, "open"),
            ]
        )
        await _po(
            session,
            scene.po_open,
            scene.order,
            "open",
            [(scene.x, 10, 4, "5.50"), (scene.y, 3, 0, None)],
        )
        await _po(session, scene.po_closed, scene.order, "closed", [(scene.z, 2, 2, "7")])
        await _po(session, scene.po_other, scene.other, "open", [(scene.x, 5, 0, "5")])
        await _po(session, scene.po_stock, None, "open", [(scene.s, 20, 10, "10")])
        for key, state in ((scene.wo_open, "open"), (scene.wo_closed, "closed")):
            session.add(
                WorkOrder(
                    key=key,
                    order_no=scene.order,
                    bom_revision=1,
                    item=f"SUB-{s}",
                    qty=D(1),
                    state=state,
                    created_at=NOW,
                )
            )
        session.add(
            ProductionOrder(
                wo_no=scene.pwo,
                order_no=scene.order,
                bom_revision=1,
                product=f"PROD-{s}",
                qty=D(1),
                planned_start=PRODUCTION_START,
                planned_end=PRODUCTION_START + timedelta(days=14),
                state="in_progress",
                created_at=NOW,
            )
        )
        for lot, item, qty, po_no, source in (
            (f"LX-{s}", scene.x, 4, scene.po_open, "receipt"),
            (f"LS-{s}", scene.s, 10, scene.po_stock, "receipt"),
            (f"LF-{s}", scene.f, 2, None, "opening"),
            (f"LW-{s}", scene.w, 2, None, "opening"),
        ):
            await add_lot(
                session, lot_no=lot, item=item, qty=D(qty), source=source, at=NOW, po_no=po_no
            )
        for item, qty in ((scene.x, 4), (scene.s, 6), (scene.f, 1), (scene.w, 2)):
            await reserve(session, order_no=scene.order, item=item, qty=D(qty), by="mrp", at=NOW)
            await _requirement(session, scene.order, item, qty)
        await _requirement(session, scene.other, scene.s, 5)
        await _requirement(session, scene.other, scene.w, 2)
        await session.flush()
        await _pick(session, scene.order, scene.x, f"LX-{s}", 1)
        await _pick(session, scene.order, scene.s, f"LS-{s}", 2)
        await _pick(session, scene.order, scene.f, f"LF-{s}", 1)
        session.add(
            Milestone(
                order_no=scene.order,
                name="production_start",
                owner="production",
                planned=PRODUCTION_START,
                forecast=PRODUCTION_START,
                actual=PRODUCTION_START if production_started else None,
                revision=1,
                updated_at=NOW,
            )
        )
    return scene


async def _unwind(
    engine: AsyncEngine,
    base_settings: Settings,
    order_no: str,
    *,
    labour: Decimal = LABOUR_PER_DAY,
    at: datetime = NOW,
) -> CancellationResult:
    settings = base_settings.model_copy(update={"labour_cost_per_day": labour})
    activities = CancellationActivities(engine, settings)
    request = UnwindOrder(order_no=order_no, reason="customer withdrew", by="sam", at=at)
    result: CancellationResult = await ActivityEnvironment().run(activities.unwind_order, request)
    return result


def _entries(result: CancellationResult, kind: str, item: str | None) -> list[dict[str, Any]]:
    return [e for e in result.cost.detail if e["kind"] == kind and e["item"] == item]
