"""Cancelling an order ("At any time"), the database side: `unwind_order` on the real database
with hand-made rows (requisitions, POs with prices, work orders, reservations, picks, a
production start), and the refusals of `POST /sales/orders/{order_no}/cancel` that come
before the workflow is asked.

The order workflow's `cancel` update (withdrawing tasks, stopping timers) is tested end to end
with the workflow.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from services.planning.models import Milestone, TimelineEvent
from services.procurement.activities import ProcurementActivities
from services.procurement.models import (
    PoLine,
    PurchaseOrder,
    Requirement,
    Requisition,
    WorkOrder,
)
from services.production.models import ProductionOrder
from services.sales.cancellation import CancellationActivities
from services.sales.models import Cancellation, Order
from services.warehouse.models import Movement, Reservation, StockLot
from services.warehouse.stock import add_lot, change_stock, free_qty, record, reserve
from shared import payloads as p
from shared.db import session_scope
from shared.settings import Settings
from shared.types import CancellationResult, PlacePoInput, UnwindOrder
from tests.conftest import Stack

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


# -- once, and only for an order that can be cancelled -----------------------------------------


async def test_a_retry_answers_the_same_result_and_changes_nothing(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    first = await _unwind(engine, base_settings, scene.order)
    again = await _unwind(engine, base_settings, scene.order, at=NOW + timedelta(minutes=5))
    assert again == first
    assert again.model_dump(mode="json") == first.model_dump(mode="json")
    async with session_scope(engine) as session:
        moves = (
            await session.execute(
                select(func.count()).where(
                    col(Movement.ref) == f"cancel {scene.order}",
                    col(Movement.kind).in_(("unreserved", "reserved")),
                )
            )
        ).scalar_one()
        other = await session.get(Reservation, (scene.other, scene.s))
        kept = await session.get(Cancellation, scene.order)
        events = (
            await session.execute(
                select(TimelineEvent).where(
                    col(TimelineEvent.order_no) == scene.order,
                    col(TimelineEvent.kind) == "cancelled",
                )
            )
        ).scalars()
        [event] = events.all()
    assert moves == 5  # 3 unreserved by the order, 2 reserved for the other one: once
    assert other is not None and other.qty == 5
    assert kept is not None and (kept.reason, kept.by, kept.at) == ("customer withdrew", "sam", NOW)
    assert event.actor == "sam" and "5689.00 EUR" in event.summary
    assert event.detail["cost"]["total"] == "5689.00"


async def test_two_unwinds_at_once_book_it_once(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    scene = await _scene(engine)
    first, second = await asyncio.gather(
        _unwind(engine, base_settings, scene.order),
        _unwind(engine, base_settings, scene.order, at=NOW + timedelta(seconds=1)),
    )
    assert first == second
    assert first.unwound.reservations == {scene.x: 3, scene.s: 4, scene.w: 2}
    async with session_scope(engine) as session:
        unreserved = (
            await session.execute(
                select(func.sum(col(Movement.qty))).where(
                    col(Movement.kind) == "unreserved", col(Movement.order_no) == scene.order
                )
            )
        ).scalar_one()
    assert unreserved == 9


@pytest.mark.parametrize("status", ["closed", "declined"])
async def test_an_ended_order_is_refused_and_nothing_changes(
    engine: AsyncEngine, base_settings: Settings, status: str
) -> None:
    order_no, key = f"CX-{_sfx()}", f"RQ-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, order_no, stage=status, status=status)
        session.add(_requisition(order_no, key, f"I-{_sfx()}", "open"))
    with pytest.raises(ApplicationError) as refused:
        await _unwind(engine, base_settings, order_no)
    assert refused.value.type == "OrderNotCancellable" and refused.value.non_retryable
    async with session_scope(engine) as session:
        requisition = await session.get(Requisition, key)
        assert requisition is not None and requisition.state == "open"
        assert await session.get(Cancellation, order_no) is None


async def test_an_unknown_order_is_refused(engine: AsyncEngine, base_settings: Settings) -> None:
    with pytest.raises(ApplicationError) as refused:
        await _unwind(engine, base_settings, f"CX-{_sfx()}-missing")
    assert refused.value.type == "OrderNotFound" and refused.value.non_retryable


async def test_an_order_in_review_costs_nothing(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    order_no = f"CX-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, order_no, stage="review")
    result = await _unwind(engine, base_settings, order_no)
    assert result.stage_at_cancel == "review"
    assert (result.cost.total, result.cost.detail, result.allocated) == (D("0.00"), [], {})
    assert result.unwound.model_dump() == {
        "requisitions": [],
        "purchase_orders": [],
        "work_orders": [],
        "reservations": {},
        "tasks": [],
    }


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


# -- the route's refusals -------------------------------------------------------------------------


async def test_cancel_route_refuses_before_asking_the_workflow(
    stack: Stack, engine: AsyncEngine
) -> None:
    closed, cancelled = f"CX-{_sfx()}", f"CX-{_sfx()}"
    async with session_scope(engine) as session:
        await _order(session, closed, stage="closed", status="closed")
        await _order(session, cancelled, stage="cancelled", status="cancelled")
    sales = stack.token("sam", "sales")

    async def cancel(order_no: str, body: Any, headers: dict[str, str]) -> Any:
        return await stack.http.post(f"/sales/orders/{order_no}/cancel", json=body, headers=headers)

    wrong_role = await cancel(closed, {"reason": "x"}, stack.token("pat", "planning"))
    assert wrong_role.status_code == 403, wrong_role.text
    for body in (
        {"reason": "   "},
        {"reason": ""},
        {},
        {"reason": "x" * 501},
        {"reason": "x", "y": 1},
    ):
        refused = await cancel(closed, body, sales)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"] == "invalid_request"
    missing = await cancel(f"CX-{_sfx()}-missing", {"reason": "x"}, sales)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    for order_no, status in ((closed, "closed"), (cancelled, "cancelled")):
        ended = await cancel(order_no, {"reason": "customer withdrew"}, sales)
        assert ended.status_code == 409, ended.text
        assert ended.json() == {
            "error": "order_not_cancellable",
            "detail": f"order {order_no} is already {status}; only an active order can be "
            "cancelled",
        }
    async with session_scope(engine) as session:
        assert await session.get(Cancellation, closed) is None
