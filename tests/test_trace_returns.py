"""Traceability (`GET /warehouse/trace`, `GET /orders/{order_no}/trace`) and returns to stock
(P7.2, `POST /warehouse/returns`) on the real stack.

Lots, receipts, inspections and picks are built with the warehouse's own bookkeeping helpers
(receiving, inspection and picking write the same rows); every read and every return goes
over HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from services.procurement.models import Requirement
from services.quality.models import Inspection, Ncr, ReleasePass
from services.warehouse.models import (
    Movement,
    Receipt,
    ReceiptLine,
    Reservation,
    StockLot,
)
from services.warehouse.stock import add_lot, change_stock, record, reserve
from shared.db import session_scope
from tests.conftest import Stack
from tests.helpers import create_order

D = Decimal
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def hours(n: float) -> datetime:
    return BASE + timedelta(hours=n)


def sfx() -> str:
    return uuid.uuid4().hex[:8]


# A lot received against a PO and delivery note, inspected, and qualified into stock.
@dataclass
class ReceivedLot:
    lot_no: str
    receipt_no: str
    po_no: str
    delivery_note_no: str
    supplier: str
    supplier_lot: str


async def received_lot(
    session: AsyncSession,
    item: str,
    *,
    received: int,
    rejected: int = 0,
    at: datetime,
    supplier: str = "Chint",
) -> ReceivedLot:
    """Receipt, inspection and stock lot of `received` units, `rejected` of them on an NCR
    that left on a release pass; the rest qualified into stock."""
    s = sfx()
    lot = ReceivedLot(f"IL-{s}", f"GR-{s}", f"PO-{s}", f"DN-{s}", supplier, f"SL-{s}")
    qualified = received - rejected
    session.add(
        Receipt(
            receipt_no=lot.receipt_no,
            lot_no=lot.lot_no,
            po_no=lot.po_no,
            delivery_note_no=lot.delivery_note_no,
            supplier=supplier,
            state="inspected",
            received_by="wh-wang",
            received_at=at,
        )
    )
    session.add(
        ReceiptLine(
            receipt_no=lot.receipt_no,
            line_no=1,
            item=item,
            supplier_lot=lot.supplier_lot,
            qty_noted=D(received),
            qty_counted=D(received),
            qty_damaged=D(0),
            qty_accepted=D(received),
            qty_refused=D(0),
            qty_qualified=D(qualified),
            qty_rejected=D(rejected),
            defect="scratched housing" if rejected else None,
        )
    )
    session.add(
        Inspection(
            lot_no=lot.lot_no,
            receipt_no=lot.receipt_no,
            po_no=lot.po_no,
            supplier=supplier,
            workflow_id=f"inspection-{lot.lot_no}",
            state="done",
            requested_at=at,
            due_at=at + timedelta(hours=8),
            inspected_at=at + timedelta(hours=3),
            inspected_by="qa-li",
            within_sla=True,
        )
    )
    moved: dict[str, Any] = {"by": "wh-wang", "lot_no": lot.lot_no, "item": item}
    await record(
        session,
        kind="received",
        qty=D(received),
        at=at,
        receipt_no=lot.receipt_no,
        ref=lot.po_no,
        detail={"supplier": supplier, "supplier_lot": lot.supplier_lot},
        **moved,
    )
    await record(session, kind="qualified", qty=D(qualified), at=at + timedelta(hours=3), **moved)
    if rejected:
        ncr_no, pass_no = f"NCR-{s}", f"RP-{s}"
        session.add(
            Ncr(
                ncr_no=ncr_no,
                lot_no=lot.lot_no,
                receipt_no=lot.receipt_no,
                po_no=lot.po_no,
                supplier=supplier,
                item=item,
                qty=D(rejected),
                defect="scratched housing",
                state="closed",
                disposition="return",
                judged_by="qa-li",
                judged_at=at + timedelta(hours=4),
                created_at=at + timedelta(hours=3),
            )
        )
        session.add(
            ReleasePass(
                pass_no=pass_no,
                ncr_no=ncr_no,
                supplier=supplier,
                item=item,
                qty=D(rejected),
                reason="return",
                issued_by="qa-li",
                issued_at=at + timedelta(hours=5),
            )
        )
        await record(session, kind="rejected", qty=D(rejected), at=at + timedelta(hours=3), **moved)
    await add_lot(
        session,
        lot_no=lot.lot_no,
        item=item,
        qty=D(qualified),
        source="receipt",
        at=at + timedelta(hours=3),
        receipt_no=lot.receipt_no,
        po_no=lot.po_no,
        supplier=supplier,
        supplier_lot=lot.supplier_lot,
    )
    return lot


async def pick(
    session: AsyncSession, order_no: str, item: str, lot_no: str, qty: int, at: datetime
) -> None:
    """What picking books: the lot and on-hand down, the reservation's picked up, the ledger."""
    await record(
        session,
        kind="picked",
        item=item,
        qty=D(qty),
        by="wh-zhao",
        at=at,
        lot_no=lot_no,
        order_no=order_no,
        ref=f"task-{sfx()}",
    )
    await session.execute(
        update(Reservation)
        .where(col(Reservation.order_no) == order_no, col(Reservation.item) == item)
        .values(picked=col(Reservation.picked) + qty)
    )
    await session.execute(
        update(StockLot)
        .where(col(StockLot.lot_no) == lot_no, col(StockLot.item) == item)
        .values(qty_left=col(StockLot.qty_left) - qty)
    )
    await change_stock(session, item, at=at, on_hand=D(-qty))


def requirement(order_no: str, item: str, qty: int, required_in_days: int) -> Requirement:
    return Requirement(
        order_no=order_no,
        item=item,
        bom_revision=1,
        qty=D(qty),
        make_or_buy="buy",
        required_date=date.today() + timedelta(days=required_in_days),
        updated_at=datetime.now(UTC),
    )


async def get(stack: Stack, path: str, *roles: str, **params: str) -> Any:
    response = await stack.http.get(path, params=params, headers=stack.token("u", *roles))
    assert response.status_code == 200, response.text
    return response.json()


async def stock_of(stack: Stack, item: str) -> dict[str, Any]:
    (row,) = await get(stack, "/warehouse/stock", "sales", item=item)
    return {
        "on_hand": D(row["on_hand"]),
        "free": D(row["free"]),
        "reserved": {order: D(qty) for order, qty in row["reserved"].items()},
    }


async def post_return(stack: Stack, body: dict[str, Any], *roles: str) -> Any:
    return await stack.http.post(
        "/warehouse/returns", json=body, headers=stack.token("wh-zhao", *(roles or ("warehouse",)))
    )


async def lot_left(engine: AsyncEngine, lot_no: str, item: str) -> Decimal:
    async with session_scope(engine) as session:
        row = await session.get(StockLot, (lot_no, item))
        assert row is not None
        return D(row.qty_left)


async def holding(engine: AsyncEngine, order_no: str, item: str) -> tuple[Decimal, Decimal]:
    """(reserved in total, picked) of an order's reservation."""
    async with session_scope(engine) as session:
        row = await session.get(Reservation, (order_no, item))
        assert row is not None
        return D(row.qty), D(row.picked)


async def movement_count(engine: AsyncEngine, item: str) -> int:
    async with session_scope(engine) as session:
        query = select(func.count()).select_from(Movement).where(col(Movement.item) == item)
        return int((await session.execute(query)).scalar_one())


# ------------------------------------------------------------------------------------------
# traceability


async def test_lot_traces_forwards_to_the_order_that_picked_it_and_the_order_back_to_it(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"VS1-{sfx()}"
    traced_order, other_order = await create_order(stack), await create_order(stack)
    async with session_scope(engine) as session:
        lot = await received_lot(session, item, received=10, rejected=2, at=hours(0))
        await add_lot(
            session, lot_no=f"OPEN-{sfx()}", item=item, qty=D(3), source="opening", at=hours(1)
        )
        opening = (
            await session.execute(
                select(StockLot).where(
                    col(StockLot.item) == item, col(StockLot.source) == "opening"
                )
            )
        ).scalar_one()
        session.add(requirement(traced_order, item, 5, 30))
        await reserve(session, order_no=traced_order, item=item, qty=D(5), by="mrp", at=hours(4))
        await reserve(session, order_no=other_order, item=item, qty=D(3), by="mrp", at=hours(4))
        await pick(session, traced_order, item, lot.lot_no, 5, hours(6))
        await pick(session, other_order, item, lot.lot_no, 2, hours(6))
        await pick(session, other_order, item, opening.lot_no, 1, hours(7))

    trace = await get(stack, "/warehouse/trace", "quality", lot=lot.lot_no)
    assert trace["lot_no"] == lot.lot_no and len(trace["lots"]) == 1
    (found,) = trace["lots"]
    assert (found["source"], found["supplier"], found["po_no"]) == ("receipt", "Chint", lot.po_no)
    assert found["receipt"]["receipt_no"] == lot.receipt_no
    assert found["receipt"]["delivery_note_no"] == lot.delivery_note_no
    assert found["receipt"]["received_by"] == "wh-wang"
    assert found["inspection"]["inspected_by"] == "qa-li"
    (line,) = found["items"]
    assert line["item"] == item and line["supplier_lot"] == lot.supplier_lot
    assert D(line["received"]) == 10
    assert line["inspection"]["inspected_by"] == "qa-li"
    assert line["inspection"]["within_sla"] is True
    assert (D(line["inspection"]["qualified"]), D(line["inspection"]["rejected"])) == (8, 2)
    (ncr,) = line["ncrs"]
    assert ncr["disposition"] == "return" and D(ncr["qty"]) == 2
    assert ncr["release_pass"]["pass_no"].startswith("RP-")
    assert (D(line["stock"]["qty_in"]), D(line["stock"]["qty_left"])) == (8, 1)
    uses = {use["order_no"]: use for use in line["orders"]}
    assert set(uses) == {traced_order, other_order}
    assert D(uses[traced_order]["picked"]) == 5 and D(uses[traced_order]["reserved"]) == 0
    assert D(uses[other_order]["picked"]) == 2 and D(uses[other_order]["reserved"]) == 0
    assert [m["kind"] for m in found["movements"]] == [
        "received",
        "qualified",
        "rejected",
        "picked",
        "picked",
    ]

    # Every lot of the item, newest first.
    by_item = await get(stack, "/warehouse/trace", "ops", item=item)
    assert [t["lot_no"] for t in by_item["lots"]] == [opening.lot_no, lot.lot_no]
    assert by_item["lots"][0]["source"] == "opening" and by_item["lots"][0]["receipt"] is None

    back = await get(stack, f"/orders/{traced_order}/trace", "quality")
    assert back["complete_traceability"] is True
    (entry,) = back["items"]
    assert (entry["item"], D(entry["required"]), D(entry["reserved"])) == (item, 5, 5)
    assert (D(entry["picked"]), D(entry["untraced"])) == (5, 0)
    (from_lot,) = entry["lots"]
    assert from_lot == {
        **from_lot,
        "lot_no": lot.lot_no,
        "supplier": "Chint",
        "supplier_lot": lot.supplier_lot,
        "po_no": lot.po_no,
        "receipt_no": lot.receipt_no,
        "delivery_note_no": lot.delivery_note_no,
        "inspected_by": "qa-li",
        "traceable": True,
    }
    assert D(from_lot["qty"]) == 5

    # Opening stock has no receipt behind it: that picked unit cannot be traced.
    partial = await get(stack, f"/orders/{other_order}/trace", "ops")
    assert partial["complete_traceability"] is False
    (entry,) = partial["items"]
    assert (D(entry["picked"]), D(entry["untraced"])) == (3, 1)
    assert {(t["lot_no"], t["traceable"]) for t in entry["lots"]} == {
        (lot.lot_no, True),
        (opening.lot_no, False),
    }


async def test_trace_needs_a_lot_or_item_a_known_one_and_the_right_role(stack: Stack) -> None:
    order_no = await create_order(stack)
    quality = stack.token("qa", "quality")
    missing = await stack.http.get("/warehouse/trace", headers=quality)
    assert missing.status_code == 422
    assert missing.json()["error"] == "invalid_request" and "lot" in missing.json()["detail"]

    for params in ({"lot": f"IL-{sfx()}"}, {"item": f"NOPE-{sfx()}"}):
        unknown = await stack.http.get("/warehouse/trace", params=params, headers=quality)
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"] == "not_found"
    unknown_order = await stack.http.get(f"/orders/SO-{sfx()}/trace", headers=quality)
    assert unknown_order.status_code == 404 and unknown_order.json()["error"] == "not_found"

    for path, params in (
        ("/warehouse/trace", {"item": "anything"}),
        (f"/orders/{order_no}/trace", {}),
    ):
        for roles in (("warehouse",), ("sales", "production")):
            refused = await stack.http.get(path, params=params, headers=stack.token("x", *roles))
            assert refused.status_code == 403, (path, roles, refused.text)
            assert refused.json()["error"] == "forbidden"
        allowed = await stack.http.get(path, params=params, headers=stack.token("a", "admin"))
        assert allowed.status_code in (200, 404)
    nothing_picked = await get(stack, f"/orders/{order_no}/trace", "admin")
    assert nothing_picked == {
        "order_no": order_no,
        "complete_traceability": True,
        "items": [],
    }


# ------------------------------------------------------------------------------------------
# returns


async def test_engineering_change_return_unreserves_then_returns_picked_and_feeds_a_short_order(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"BOLT-{sfx()}"
    changed, waiting = await create_order(stack), await create_order(stack)
    async with session_scope(engine) as session:
        lot = await received_lot(session, item, received=6, at=hours(0))
        # The changed order still counts 6 (MRP has not run the DCN yet); the other is short 2.
        session.add(requirement(changed, item, 6, 10))
        session.add(requirement(waiting, item, 2, 20))
        await reserve(session, order_no=changed, item=item, qty=D(6), by="mrp", at=hours(4))
        await pick(session, changed, item, lot.lot_no, 4, hours(5))
    assert await stock_of(stack, item) == {
        "on_hand": 2,
        "free": 0,
        "reserved": {changed: 2},
    }

    response = await post_return(
        stack,
        {
            "kind": "engineering_change",
            "order_no": changed,
            "reason": "DCN-7: two bolts fewer per frame",
            "lines": [{"item": item, "qty": 3}],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["return_no"].startswith("RT-") and body["kind"] == "engineering_change"
    (line,) = body["lines"]
    assert (D(line["unreserved"]), D(line["returned"])) == (2, 1)
    assert [(t["lot_no"], D(t["qty"])) for t in line["lots"]] == [(lot.lot_no, 1)]
    # The freed stock goes to the other order short of it, not back to the changed one.
    assert {o: {i: D(q) for i, q in per.items()} for o, per in body["allocated"].items()} == {
        waiting: {item: D(2)}
    }

    assert await stock_of(stack, item) == {"on_hand": 3, "free": 1, "reserved": {waiting: 2}}
    assert await holding(engine, changed, item) == (3, 3)
    assert await lot_left(engine, lot.lot_no, item) == 3
    view = await get(stack, f"/orders/{changed}", "ops")
    (event,) = [e for e in view["timeline"] if e["kind"] == "material_return"]
    assert body["return_no"] in event["summary"] and event["actor"] == "wh-zhao"

    # The lot's genealogy shows the unit coming back from the order.
    trace = await get(stack, "/warehouse/trace", "quality", lot=lot.lot_no, item=item)
    (use,) = trace["lots"][0]["items"][0]["orders"]
    assert (D(use["picked"]), D(use["returned"])) == (4, 1)
    back = await get(stack, f"/orders/{changed}/trace", "quality")
    assert [(t["lot_no"], D(t["qty"])) for t in back["items"][0]["lots"]] == [(lot.lot_no, 3)]

    # More than the order holds: refused, naming the item and what the order holds.
    before = (await stock_of(stack, item), await movement_count(engine, item))
    over = await post_return(
        stack,
        {
            "kind": "engineering_change",
            "order_no": changed,
            "reason": "DCN-8",
            "lines": [{"item": item, "qty": 4}],
        },
    )
    assert over.status_code == 422, over.text
    assert over.json()["error"] == "return_exceeds_holding"
    assert item in over.json()["detail"] and "holds 3" in over.json()["detail"]
    assert (await stock_of(stack, item), await movement_count(engine, item)) == before
    assert await holding(engine, changed, item) == (3, 3)


async def test_leftover_goes_back_into_the_lots_it_was_picked_from_and_a_bad_line_refuses_all(
    stack: Stack, engine: AsyncEngine
) -> None:
    item, other_item = f"CABLE-{sfx()}", f"LUG-{sfx()}"
    order_no = await create_order(stack)
    async with session_scope(engine) as session:
        first = await received_lot(session, item, received=3, at=hours(0))
        second = await received_lot(session, item, received=5, at=hours(1))
        lugs = await received_lot(session, other_item, received=4, at=hours(1))
        for what, qty in ((item, 5), (other_item, 4)):
            await reserve(session, order_no=order_no, item=what, qty=D(qty), by="mrp", at=hours(2))
        await pick(session, order_no, item, first.lot_no, 3, hours(3))
        await pick(session, order_no, item, second.lot_no, 2, hours(4))
        await pick(session, order_no, other_item, lugs.lot_no, 2, hours(4))

    # A valid line and one returning more than was picked: nothing at all is booked.
    before = [
        (await stock_of(stack, what), await movement_count(engine, what))
        for what in (item, other_item)
    ]
    refused = await post_return(
        stack,
        {
            "kind": "leftover",
            "order_no": order_no,
            "reason": "unused after assembly",
            "lines": [{"item": item, "qty": 1}, {"item": other_item, "qty": 3}],
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "return_exceeds_picked"
    assert other_item in refused.json()["detail"] and "picked 2" in refused.json()["detail"]
    after = [
        (await stock_of(stack, what), await movement_count(engine, what))
        for what in (item, other_item)
    ]
    assert after == before
    assert await holding(engine, order_no, item) == (5, 5)

    for line, error in (
        ({"item": item, "qty": 1, "lot_no": f"IL-{sfx()}"}, "unknown_lot"),
        ({"item": item, "qty": 3, "lot_no": second.lot_no}, "return_exceeds_lot"),
    ):
        wrong_lot = await post_return(
            stack,
            {"kind": "leftover", "order_no": order_no, "reason": "unused", "lines": [line]},
        )
        assert wrong_lot.status_code == 422, wrong_lot.text
        assert wrong_lot.json()["error"] == error
    assert await stock_of(stack, item) == before[0][0]

    # Four back: the two of the lot picked last, then two of the first.
    response = await post_return(
        stack,
        {
            "kind": "leftover",
            "order_no": order_no,
            "reason": "unused after assembly",
            "lines": [{"item": item, "qty": 4}],
        },
    )
    assert response.status_code == 201, response.text
    (line,) = response.json()["lines"]
    assert (D(line["unreserved"]), D(line["returned"])) == (0, 4)
    assert [(t["lot_no"], D(t["qty"])) for t in line["lots"]] == [
        (second.lot_no, 2),
        (first.lot_no, 2),
    ]
    assert await stock_of(stack, item) == {"on_hand": 7, "free": 7, "reserved": {}}
    assert await holding(engine, order_no, item) == (1, 1)
    assert await lot_left(engine, first.lot_no, item) == 2
    assert await lot_left(engine, second.lot_no, item) == 5
    view = await get(stack, f"/orders/{order_no}", "ops")
    assert any(e["kind"] == "material_return" for e in view["timeline"])
    back = await get(stack, f"/orders/{order_no}/trace", "quality")
    entry = next(e for e in back["items"] if e["item"] == item)
    assert D(entry["picked"]) == 1
    assert [(t["lot_no"], D(t["qty"])) for t in entry["lots"]] == [(first.lot_no, 1)]


async def test_aftersales_return_becomes_a_return_lot_that_a_short_order_gets(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"RELAY-{sfx()}"
    short_order = await create_order(stack)
    async with session_scope(engine) as session:
        lot = await received_lot(session, item, received=2, at=hours(0))
        session.add(requirement(short_order, item, 6, 5))
        await reserve(session, order_no=short_order, item=item, qty=D(2), by="mrp", at=hours(4))

    response = await post_return(
        stack,
        {
            "kind": "aftersales",
            "reason": "customer sent back spares unused",
            "lines": [{"item": item, "qty": 3}, {"item": item, "qty": 1, "lot_no": lot.lot_no}],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return_no = body["return_no"]
    assert body["order_no"] is None
    assert [[(t["lot_no"], D(t["qty"])) for t in line["lots"]] for line in body["lines"]] == [
        [(return_no, 3)],
        [(lot.lot_no, 1)],
    ]
    assert {o: {i: D(q) for i, q in per.items()} for o, per in body["allocated"].items()} == {
        short_order: {item: D(4)}
    }
    assert await stock_of(stack, item) == {"on_hand": 6, "free": 0, "reserved": {short_order: 6}}
    assert await lot_left(engine, lot.lot_no, item) == 3

    trace = await get(stack, "/warehouse/trace", "quality", lot=return_no)
    (returned,) = trace["lots"]
    assert returned["source"] == "return" and returned["receipt"] is None
    assert (D(returned["items"][0]["stock"]["qty_in"]), returned["items"][0]["item"]) == (3, item)
    assert [m["kind"] for m in returned["movements"]] == ["returned"]
    assert returned["movements"][0]["detail"]["kind"] == "aftersales"

    # Back from the customer of an order: the order's timeline tells material control.
    from_site = await post_return(
        stack,
        {
            "kind": "aftersales",
            "order_no": short_order,
            "reason": "spare left on site",
            "lines": [{"item": item, "qty": 1}],
        },
    )
    assert from_site.status_code == 201, from_site.text
    assert from_site.json()["allocated"] == {}  # the order already holds all it needs
    view = await get(stack, f"/orders/{short_order}", "ops")
    returns = [e["detail"]["return_no"] for e in view["timeline"] if e["kind"] == "material_return"]
    assert returns == [from_site.json()["return_no"]]
    assert (await stock_of(stack, item))["free"] == 1

    unknown = await post_return(
        stack,
        {"kind": "aftersales", "reason": "?", "lines": [{"item": f"NEVER-{sfx()}", "qty": 1}]},
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_item"


async def test_returns_refuse_bad_requests_unknown_orders_and_other_roles(stack: Stack) -> None:
    line = {"item": f"X-{sfx()}", "qty": 1}
    for body in (
        {"kind": "leftover", "reason": "no order", "lines": [line]},
        {"kind": "leftover", "order_no": "SO-1", "reason": "zero", "lines": [{**line, "qty": 0}]},
        {"kind": "scrap", "order_no": "SO-1", "reason": "bad kind", "lines": [line]},
        {"kind": "aftersales", "reason": "   ", "lines": [line]},
        {"kind": "aftersales", "reason": "no lines", "lines": []},
    ):
        response = await post_return(stack, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "invalid_request"
    missing = await post_return(
        stack, {"kind": "leftover", "order_no": f"SO-{sfx()}", "reason": "r", "lines": [line]}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    for roles in (("quality",), ("ops",), ("production",)):
        refused = await post_return(
            stack, {"kind": "aftersales", "reason": "r", "lines": [line]}, *roles
        )
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


async def test_a_retried_return_with_its_idempotency_key_is_booked_once(
    stack: Stack, engine: AsyncEngine
) -> None:
    item = f"GASKET-{sfx()}"
    async with session_scope(engine) as session:
        await received_lot(session, item, received=1, at=hours(0))
    body = {"kind": "aftersales", "reason": "returned by site", "lines": [{"item": item, "qty": 5}]}
    headers = {**stack.token("wh-zhao", "warehouse"), "Idempotency-Key": f"ret-{item}"}
    first = await stack.http.post("/warehouse/returns", json=body, headers=headers)
    again = await stack.http.post("/warehouse/returns", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert (await stock_of(stack, item))["on_hand"] == 6

    other = await stack.http.post(
        "/warehouse/returns",
        json={**body, "lines": [{"item": item, "qty": 7}]},
        headers=headers,
    )
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert first.json()["return_no"] in other.json()["detail"]
    assert (await stock_of(stack, item))["on_hand"] == 6
